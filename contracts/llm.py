"""LLM tip generation: the payloads of the `generate_tip_text` activity."""

from datetime import datetime

from pydantic import BaseModel, Field

from contracts.agents import Snippet
from contracts.tips import TipKind


class GenerateTipTextInput(BaseModel):
    """Snippets to turn into one tip, the workflow's clock and the person's local clock."""

    snippets: list[Snippet]
    as_of: datetime
    # The person's local clock as "Tue 08:40", computed by the caller (timing is part of the tip).
    local_time: str = ""


class GeneratedTip(BaseModel):
    """The tip text the orchestrator LLM wrote, after the output guard accepted it."""

    text: str
    kind: TipKind = "advice"
    agent_ids: list[str] = Field(default_factory=list)
    # The alias, or the model name the proxy reports: the application never chooses a model.
    model: str = "tip-generator"
    prompt_version: str = ""
    latency_ms: int = 0
