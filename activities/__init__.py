"""Every side effect. build_activities() is the one list the worker and tests register."""

from collections.abc import Callable
from typing import Any

from activities.agents import AgentActivities
from activities.deps import ActivityDeps
from activities.tips import TipActivities


def build_activities(deps: ActivityDeps) -> list[Callable[..., Any]]:
    """All activities, bound to their dependencies."""
    tip = TipActivities(deps)
    agent = AgentActivities(deps)
    return [
        tip.load_tip_context,
        tip.compose_tip,
        tip.store_tip,
        agent.compute_agent_snippet,
    ]


__all__ = ["ActivityDeps", "build_activities"]
