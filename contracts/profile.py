"""The profile: a user's globals, preferences by scope, consents and contexts."""

import math
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    Field,
    JsonValue,
    RootModel,
    model_validator,
)

from contracts.tokens import IntegrationStatus

ContextKind = Literal["away", "focus", "travel", "unwell"]
MAX_CONTEXTS = 20
MAX_CONTEXT_ENTRIES = 10
# Texts in stored JSON values (contexts, preferences): at most this many characters.
MAX_TEXT = 200


class PreferenceRead(BaseModel):
    value: Any = None
    # 'user' (set by the person) or 'inferred' (by an agent).
    source: str


class ContextRead(BaseModel):
    id: UUID
    kind: str
    value: dict[str, Any] = Field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None


class ProfileRead(BaseModel):
    """GET /api/profile: the caller's own data only."""

    user_id: UUID
    display_name: str | None = None
    tz: str
    preferences: dict[str, dict[str, PreferenceRead]] = Field(default_factory=dict)
    consents: dict[str, bool] = Field(default_factory=dict)
    contexts: list[ContextRead] = Field(default_factory=list)
    # Provider -> integration status, e.g. {"todoist": "active"}; absent when never connected.
    integrations: dict[str, IntegrationStatus] = Field(default_factory=dict)


class ConsentsUpdate(RootModel[dict[str, bool]]):
    """PATCH /api/profile/consents: consent name -> granted."""


class ConsentsRead(BaseModel):
    consents: dict[str, bool]


class PreferencesUpdate(RootModel[dict[str, JsonValue]]):
    """PATCH /api/profile/prefs/{scope}: key -> the person's value, or null to drop it."""


class PreferencesRead(BaseModel):
    """The preferences of one scope after an edit."""

    scope: str
    preferences: dict[str, PreferenceRead] = Field(default_factory=dict)


def _small_object(value: dict[str, JsonValue]) -> dict[str, JsonValue]:
    """A few short scalar entries (messages never quote the value)."""
    if len(value) > MAX_CONTEXT_ENTRIES:
        raise ValueError(f"at most {MAX_CONTEXT_ENTRIES} entries")
    for key, item in value.items():
        if not short_text(key):
            raise ValueError("keys must be short text")
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError("numbers must be finite")
        if isinstance(item, str) and not short_text(item):
            raise ValueError("texts must be short")
        if isinstance(item, list | dict):
            raise ValueError("entries must be plain values")
    return value


def short_text(text: str) -> bool:
    """Whether a text fits a stored JSON value (NUL cannot be in a PostgreSQL JSON value)."""
    return len(text) <= MAX_TEXT and "\x00" not in text


def _storable(at: datetime | None) -> datetime | None:
    """An instant that exists in UTC (an offset at the calendar's edge may not)."""
    if at is None:
        return None
    try:
        return at.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range") from None


Instant = Annotated[AwareDatetime | None, AfterValidator(_storable)]


class ContextCreate(BaseModel):
    """A context to add; either end may be open."""

    kind: ContextKind
    value: Annotated[dict[str, JsonValue], AfterValidator(_small_object)] = Field(
        default_factory=dict
    )
    starts_at: Instant = None
    ends_at: Instant = None

    @model_validator(mode="after")
    def _ends_after_start(self) -> "ContextCreate":
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class ContextsUpdate(BaseModel):
    """PATCH /api/profile/contexts: contexts to add and ids to remove (removed first)."""

    add: list[ContextCreate] = Field(default_factory=list, max_length=MAX_CONTEXTS)
    remove: list[UUID] = Field(default_factory=list, max_length=MAX_CONTEXTS)


class ContextsRead(BaseModel):
    contexts: list[ContextRead] = Field(default_factory=list)
