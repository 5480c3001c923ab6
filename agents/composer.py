"""The deterministic fallback composer: the most salient snippet, made into one tip."""

from datetime import datetime

from contracts.agents import Snippet
from contracts.tips import TipDraft

QUIET_TIP = "Nothing pressing right now. Finish one small thing, then rest."


def compose(snippets: list[Snippet], now: datetime) -> TipDraft:
    """One tip from the most salient snippet (ties broken by agent id), or a calm default."""
    live = [s for s in snippets if s.expires_at > now]
    if not live:
        return TipDraft(text=QUIET_TIP, kind="advice", agent_ids=[], generator="composer")
    best = max(live, key=lambda s: (s.salience, s.agent_id))
    kind = "todo" if best.kind == "todo" else "advice"
    return TipDraft(text=best.text, kind=kind, agent_ids=[best.agent_id], generator="composer")
