"""Pure, deterministic agents. The registry is the only list of agents."""

from functools import cache

from agents.registry import Agent, discover


@cache
def all_agents() -> dict[str, Agent]:
    """All discovered agents by id (scanned once per process)."""
    return discover()


__all__ = ["Agent", "all_agents", "discover"]
