"""Scheduled and on-demand agent compute: sweep and recompute payloads."""

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field


class AgentSweepInput(BaseModel):
    """Input of AgentSweepWorkflow; a continued run carries the cursor and the sweep's clock."""

    agent_id: str
    batch_size: int = Field(default=50, ge=1, le=500)
    batches_per_run: int = Field(default=20, ge=1)
    cursor: UUID | None = None
    as_of: datetime | None = None
    users_done: int = 0


class SweepResult(BaseModel):
    agent_id: str
    users: int


class DueUsersInput(BaseModel):
    agent_id: str
    after: UUID | None
    limit: int
    as_of: datetime


class DueUsersResult(BaseModel):
    user_ids: list[UUID]


class ComputeBatchInput(BaseModel):
    agent_id: str
    user_ids: list[UUID]
    as_of: datetime


class ComputeBatchResult(BaseModel):
    computed: int
    skipped: int = 0


class RecomputeInput(BaseModel):
    """Input of RecomputeWorkflow: one user, some agents (default: every eligible one)."""

    user_id: UUID
    agent_ids: list[str] | None = None


class EligibleAgentsInput(BaseModel):
    user_id: UUID
    agent_ids: list[str] | None = None


class EligibleAgentsResult(BaseModel):
    agent_ids: list[str]
    # Providers whose history is synced before computing (active integrations).
    sync_providers: list[str] = Field(default_factory=list)


class RecomputeResult(BaseModel):
    user_id: UUID
    agent_ids: list[str]
