"""Agent I/O: manifests, the history an agent reads, and the snippet it returns."""

from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field, JsonValue, PrivateAttr

HistorySource = Literal["task_completions", "active_tasks", "feedback_events", "calendar_events"]
FeedbackKind = Literal["done", "like", "not_now", "not_for_me"]


class InferredParam(BaseModel):
    """A preference an agent infers from history, with its cold-start default.

    A value the person sets has the default's type; `minimum` / `maximum` bound numbers (and
    the numbers of a list), `choices` lists the only values allowed.
    """

    key: str
    min_history: int = 0
    cold_start_default: JsonValue = None
    minimum: float | None = None
    maximum: float | None = None
    choices: list[JsonValue] | None = None


class AgentManifest(BaseModel):
    """What an agent is, what it reads and how often it runs."""

    id: str
    version: str
    ttl: timedelta
    cadence: timedelta
    inputs: list[HistorySource] = Field(default_factory=list)
    consents: list[str] = Field(default_factory=list)
    min_history: int = 0
    inferred: list[InferredParam] = Field(default_factory=list)


class TaskCompletion(BaseModel):
    """One completion event, as a derivative: keys are hashes; text only when fetched live.

    A recurring task keeps its key across occurrences, so an event is (task_key, completed_at).
    `due_at` is the start of the due day in the person's zone when `due_all_day`, else the
    due instant. `content` is filled only from a live provider fetch and is never stored.
    """

    task_key: str
    project_key: str | None = None
    completed_at: AwareDatetime
    due_at: AwareDatetime | None = None
    due_all_day: bool = True
    priority: int = Field(default=1, ge=1, le=4)
    recurring: bool = False
    content: str | None = None


class ActiveTask(BaseModel):
    """An open task, fetched live from the provider at compute time; never stored."""

    task_key: str
    project_key: str | None = None
    content: str = ""
    due_at: AwareDatetime | None = None
    due_all_day: bool = True
    priority: int = Field(default=1, ge=1, le=4)
    recurring: bool = False


class FeedbackEvent(BaseModel):
    """A reaction to a tip, with the agents that contributed to it."""

    kind: FeedbackKind
    at: AwareDatetime
    tip_id: UUID | None = None
    agent_ids: list[str] = Field(default_factory=list)


class UserHistory(BaseModel):
    """Everything an agent may read about one person, in UTC, with their time zone.

    Real histories are messy: duplicated events, bursts of ticking off, gaps, events stamped in
    the future by a skewed clock, tasks without due dates. Agents must cope with all of it.
    """

    tz: str = "UTC"
    completions: list[TaskCompletion] = Field(default_factory=list)
    active_tasks: list[ActiveTask] = Field(default_factory=list)
    feedback_events: list[FeedbackEvent] = Field(default_factory=list)
    # Optional precomputed embeddings of task text by task_key (the `embedder` alias, fetched by
    # an activity); agents fall back to an offline embedding when a key is missing.
    embeddings: dict[str, list[float]] = Field(default_factory=dict)
    # The agents' columnar view of this history (agents/frame.py), built once and reused.
    _frame: Any = PrivateAttr(default=None)


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


class AgentComputeRead(BaseModel):
    """POST /api/agents/{agent_id}/compute: the agent's output for the caller, just computed."""

    agent_id: str
    snippet: Snippet | None = None
    computed_at: datetime
