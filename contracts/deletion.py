"""Account deletion: the workflow's input, steps and result."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

StepOutcome = Literal["done", "failed", "skipped"]
DELETION_STEPS = (
    "mark_deleting",
    "stop_workflows",
    "revoke_tokens",
    "delete_rows",
    "delete_histories",
    "destroy_data_key",
    "verify",
)


class AccountDeletionInput(BaseModel):
    """Input of AccountDeletionWorkflow; the deletion id is minted by whoever asks first."""

    user_id: UUID
    deletion_id: UUID
    requested_at: datetime
    # Attempts at each provider's revocation before it is recorded as failed.
    revoke_attempts: int = Field(default=6, ge=1)


class DeletionStepInput(BaseModel):
    user_id: UUID
    deletion_id: UUID


class StepResult(BaseModel):
    outcome: StepOutcome = "done"
    count: int = 0
    detail: str | None = None


class RevokeProvidersResult(BaseModel):
    """Per provider: whether the provider confirmed the revocation."""

    outcomes: dict[str, StepOutcome] = Field(default_factory=dict)


class AuditInput(BaseModel):
    user_id: UUID
    deletion_id: UUID
    requested_at: datetime
    completed_at: datetime | None = None
    steps: dict[str, StepOutcome | dict[str, StepOutcome]] = Field(default_factory=dict)


class AccountDeletionResult(BaseModel):
    deletion_id: UUID
    steps: dict[str, StepOutcome | dict[str, StepOutcome]]
    completed_at: datetime


class DeletionStatus(BaseModel):
    """What a running or finished deletion reports (query / HTTP)."""

    deletion_id: UUID
    steps_done: list[str] = Field(default_factory=list)
    finished: bool = False
