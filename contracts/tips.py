"""Tips: the workflow and activity payloads and the HTTP read model."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from contracts.agents import Snippet

TipKind = Literal["advice", "todo"]
TipGenerator = Literal["composer", "llm"]


class GenerateTipInput(BaseModel):
    """Input of GenerateTipWorkflow."""

    user_id: UUID
    reason: Literal["miss", "next", "cli"] = "miss"


class TipContextInput(BaseModel):
    user_id: UUID
    as_of: datetime


class TipContext(BaseModel):
    """The eligible agents of a user, their fresh snippets and which ones need recomputing."""

    user_id: UUID
    agent_ids: list[str]
    snippets: list[Snippet] = Field(default_factory=list)
    stale_agent_ids: list[str] = Field(default_factory=list)


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


class StoreTipInput(BaseModel):
    user_id: UUID
    draft: TipDraft
    # The workflow run id: storing twice for one run keeps one tip.
    run_id: str
    as_of: datetime


class TipRead(BaseModel):
    """A tip as the page shows it."""

    id: UUID
    text: str
    kind: TipKind
    agent_ids: list[str]
    generator: TipGenerator
    created_at: datetime
    expires_at: datetime
