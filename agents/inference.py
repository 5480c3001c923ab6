"""The inference framework: cold-start defaults below min_history, never a crash."""

import logging
from datetime import datetime
from typing import Any

from agents.registry import Agent
from contracts.agents import UserHistory

log = logging.getLogger(__name__)


def run_inference(agent: Agent, history: UserHistory, *, now: datetime) -> dict[str, Any]:
    """Inferred params of one agent; a failing infer() yields the cold-start defaults.

    A param's `min_history` counts feedback events: below it, its cold-start default stands.
    """
    history_size = len(history.feedback_events)
    defaults = {p.key: p.cold_start_default for p in agent.manifest.inferred}
    if agent.infer is None:
        return defaults
    result = dict(defaults)
    try:
        inferred = agent.infer(history, now)
    except Exception:
        log.exception("infer() failed for agent %s; using cold-start defaults", agent.id)
        return defaults
    for param in agent.manifest.inferred:
        if history_size >= param.min_history and param.key in inferred:
            result[param.key] = inferred[param.key]
    return result
