"""The inference framework: cold-start defaults below min_history, never a crash."""

import logging
from typing import Any

from agents.registry import Agent
from contracts.agents import UserHistory

log = logging.getLogger(__name__)


def run_inference(agent: Agent, history: UserHistory, *, history_size: int) -> dict[str, Any]:
    """Inferred params of one agent; a failing infer() yields the cold-start defaults."""
    defaults = {p.key: p.cold_start_default for p in agent.manifest.inferred}
    if agent.infer is None:
        return defaults
    result = dict(defaults)
    try:
        inferred = agent.infer(history)
    except Exception:
        log.exception("infer() failed for agent %s; using cold-start defaults", agent.id)
        return defaults
    for param in agent.manifest.inferred:
        if history_size >= param.min_history and param.key in inferred:
            result[param.key] = inferred[param.key]
    return result
