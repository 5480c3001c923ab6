"""Every side effect. The builders here are the one list the worker and tests register."""

from collections.abc import Callable
from typing import Any

from activities.agents import AgentActivities
from activities.deps import ActivityDeps, LlmConfig
from activities.llm import LlmActivities, new_http_client
from activities.tips import TipActivities


def build_activities(deps: ActivityDeps) -> list[Callable[..., Any]]:
    """The activities of the main task queue (database and agent work), bound to their deps."""
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


def build_llm_activities(deps: ActivityDeps) -> list[Callable[..., Any]]:
    """The activities of the LLM task queue, whose concurrency is capped on its own."""
    llm = deps.llm
    http = deps.http or new_http_client(llm.timeout_s)
    activities = LlmActivities(
        http,
        base_url=llm.url,
        api_key=llm.api_key,
        timeout_s=llm.timeout_s,
        max_tokens=llm.max_tokens,
        temperature=llm.temperature,
    )
    return [activities.generate_tip_text]


__all__ = ["ActivityDeps", "LlmConfig", "build_activities", "build_llm_activities"]
