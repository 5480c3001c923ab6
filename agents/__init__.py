"""Pure, deterministic agents. The registry below is the only list of agents."""

from functools import cache

from agents.registry import Agent, discover


@cache
def registry() -> dict[str, Agent]:
    """All discovered agents by id (scanned once per process)."""
    return discover()


__all__ = ["Agent", "discover", "registry"]
