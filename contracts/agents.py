"""Agent I/O: manifests, the history an agent reads, and the snippet it returns."""

from datetime import datetime, timedelta

from pydantic import AwareDatetime, BaseModel, Field, JsonValue


class InferredParam(BaseModel):
    """A preference an agent infers from history, with its cold-start default."""

    key: str
    min_history: int = 0
    cold_start_default: JsonValue = None


class AgentManifest(BaseModel):
    """What an agent is, what it reads and how often it runs."""

    id: str
    version: str
    ttl: timedelta
    cadence: timedelta
    inputs: list[str] = Field(default_factory=list)
    consents: list[str] = Field(default_factory=list)
    min_history: int = 0
    inferred: list[InferredParam] = Field(default_factory=list)


class TaskCompletion(BaseModel):
    """One completed task, as a derivative: no task text, keys are hashes."""

    task_key: str
    project_key: str | None = None
    completed_at: AwareDatetime
    due_at: AwareDatetime | None = None
    priority: int = Field(default=1, ge=1, le=4)
    recurring: bool = False


class UserHistory(BaseModel):
    """Everything an agent may read about one person, in UTC, with their time zone."""

    tz: str = "UTC"
    completions: list[TaskCompletion] = Field(default_factory=list)


class Snippet(BaseModel):
    """Short text for the orchestrator, structured facts, a salience and an expiry."""

    agent_id: str
    agent_version: str
    text: str
    kind: str = "advice"
    facts: dict[str, JsonValue] = Field(default_factory=dict)
    salience: float = Field(ge=0.0, le=1.0)
    expires_at: datetime


class AgentRead(BaseModel):
    """An agent as listed by the registry endpoint."""

    manifest: AgentManifest
