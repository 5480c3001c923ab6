"""Tips: the workflow and activity payloads and the HTTP read model."""

from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field, JsonValue, field_validator

from contracts.agents import FeedbackKind, Snippet

TipKind = Literal["advice", "todo"]
TipGenerator = Literal["composer", "llm"]
TipReason = Literal["miss", "next", "cli", "proactive"]
# What a generation decided: a new tip, or why not (a valid answer, not an error).
TipStatus = Literal["tip", "nothing", "quiet", "budget"]

# Below this salience a snippet is not worth a tip: "nothing now" is the better answer.
MIN_TIP_SALIENCE = 0.15
# Reactions that end a tip: it stops being the current tip. A like keeps it.
DISMISSING: frozenset[FeedbackKind] = frozenset({"done", "not_now", "not_for_me"})


class GenerateTipInput(BaseModel):
    """Input of GenerateTipWorkflow."""

    user_id: UUID
    reason: TipReason = "miss"


class TipContextInput(BaseModel):
    user_id: UUID
    as_of: datetime


class TipContext(BaseModel):
    """What a tip decision needs: eligible agents, fresh snippets, stale ones, budget, clock."""

    user_id: UUID
    agent_ids: list[str]
    snippets: list[Snippet] = Field(default_factory=list)
    stale_agent_ids: list[str] = Field(default_factory=list)
    local_time: str = ""
    quiet_now: bool = False
    tips_left_today: int = 1
    llm_enabled: bool = False
    llm_budget_ms: int = 8000
    next_tip_at: datetime | None = None
    # Agents left out after a reaction (their snippets are neither offered nor recomputed).
    muted_agent_ids: list[str] = Field(default_factory=list)


class AgentComputeInput(BaseModel):
    user_id: UUID
    agent_id: str
    as_of: datetime


class AgentComputeResult(BaseModel):
    agent_id: str
    snippet: Snippet | None = None


class ComposeTipInput(BaseModel):
    snippets: list[Snippet]
    as_of: datetime


class TipDraft(BaseModel):
    """A tip before it is stored."""

    text: str
    kind: TipKind = "advice"
    agent_ids: list[str] = Field(default_factory=list)
    generator: TipGenerator = "composer"
    model: str | None = None
    prompt_version: str | None = None
    latency_ms: int | None = None


class Candidate(BaseModel):
    """A snippet that was considered, for the decision log."""

    agent_id: str
    salience: float


class StoreTipInput(BaseModel):
    """A decision to store: with a draft it becomes the new tip, without one it is logged."""

    user_id: UUID
    status: TipStatus
    reason: TipReason
    draft: TipDraft | None = None
    candidates: list[Candidate] = Field(default_factory=list)
    # The workflow run id: storing twice for one run keeps one tip and one decision.
    run_id: str
    as_of: datetime
    started_at: datetime | None = None
    next_tip_at: datetime | None = None


class TipRead(BaseModel):
    """A tip as the page shows it."""

    id: UUID
    text: str
    kind: TipKind
    agent_ids: list[str]
    generator: TipGenerator
    created_at: datetime
    expires_at: datetime


class TipOutcome(BaseModel):
    """The result of GenerateTipWorkflow: the current tip, or none and why."""

    status: TipStatus
    tip: TipRead | None = None
    next_tip_at: datetime | None = None

    @field_validator("next_tip_at")
    @classmethod
    def _in_utc(cls, value: datetime | None) -> datetime | None:
        """One instant, one spelling: in UTC, as every other time the API gives."""
        return value.astimezone(UTC) if value is not None and value.tzinfo else value


class ReactionCreate(BaseModel):
    """POST /api/tips/{tip_id}/reaction."""

    kind: FeedbackKind


class ReactionRead(BaseModel):
    """A recorded reaction; `dismissed` says whether the tip is no longer the current one."""

    tip_id: UUID
    kind: FeedbackKind
    created_at: datetime
    dismissed: bool


class TipWhyAgent(BaseModel):
    """A contributing agent's snippet as it was when the tip was made."""

    agent_id: str
    text: str
    facts: dict[str, JsonValue] = Field(default_factory=dict)
    salience: float


class TipWhy(BaseModel):
    """GET /api/tips/{tip_id}/why: what the tip was made from."""

    tip_id: UUID
    generator: TipGenerator
    agents: list[TipWhyAgent] = Field(default_factory=list)
