"""Account endpoints: the deletion receipt and the export of everything stored about a user."""

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field


class DeletionRead(BaseModel):
    """The id of the user's account deletion (the same for every request)."""

    deletion_id: UUID


class IdentityExport(BaseModel):
    issuer: str
    subject: str
    email: str | None = None
    created_at: datetime


class IntegrationExport(BaseModel):
    """An integration without its tokens: which provider, in what state, allowed to do what."""

    provider: str
    status: str
    scopes: str | None = None
    expires_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class AccountExport(BaseModel):
    """Everything oO stores about one user (GET /api/account/export); never a token."""

    user: dict[str, Any]
    identities: list[IdentityExport] = Field(default_factory=list)
    consents: dict[str, bool] = Field(default_factory=dict)
    preferences: list[dict[str, Any]] = Field(default_factory=list)
    contexts: list[dict[str, Any]] = Field(default_factory=list)
    task_completions: list[dict[str, Any]] = Field(default_factory=list)
    feedback_events: list[dict[str, Any]] = Field(default_factory=list)
    agent_outputs: list[dict[str, Any]] = Field(default_factory=list)
    tips: list[dict[str, Any]] = Field(default_factory=list)
    tip_decisions: list[dict[str, Any]] = Field(default_factory=list)
    integrations: list[IntegrationExport] = Field(default_factory=list)
