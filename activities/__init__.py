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
        agent.list_due_users,
        agent.compute_agent_batch,
        agent.list_eligible_agents,
    ]


__all__ = ["ActivityDeps", "build_activities"]
