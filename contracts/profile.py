"""The profile: a user's globals, preferences by scope, consents and contexts."""

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field, RootModel


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


class ConsentsUpdate(RootModel[dict[str, bool]]):
    """PATCH /api/profile/consents: consent name -> granted."""


class ConsentsRead(BaseModel):
    consents: dict[str, bool]
