"""Agent discovery: every module of this package that exposes MANIFEST is an agent."""

import importlib
import logging
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

from contracts.agents import AgentManifest, Snippet, UserHistory

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "oo.agents"

Prefs = Mapping[str, Any]
ComputeFn = Callable[[UserHistory, Prefs, datetime], Snippet | None]
InferFn = Callable[[UserHistory, datetime], dict[str, Any]]


@dataclass(frozen=True)
class Agent:
    """An agent's manifest and its pure functions."""

    manifest: AgentManifest
    compute: ComputeFn
    infer: InferFn | None = None

    @property
    def id(self) -> str:
        return self.manifest.id


def _from_module(module: ModuleType) -> Agent | None:
    manifest = getattr(module, "MANIFEST", None)
    if not isinstance(manifest, AgentManifest):
        return None
    return Agent(manifest=manifest, compute=module.compute, infer=getattr(module, "infer", None))


def discover(package: ModuleType | None = None) -> dict[str, Agent]:
    """Scan the agents package and the `oo.agents` entry points; return agents by id."""
    package = package or importlib.import_module("agents")
    found: dict[str, Agent] = {}
    for info in pkgutil.iter_modules(package.__path__, prefix=f"{package.__name__}."):
        agent = _from_module(importlib.import_module(info.name))
        if agent is not None:
            found[agent.id] = agent
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            agent = _from_module(ep.load())
        except Exception:
            log.exception("agent entry point %s failed to load", ep.name)
            continue
        if agent is not None:
            found.setdefault(agent.id, agent)
    return dict(sorted(found.items()))


def eligible(agents: Mapping[str, Agent], consents: set[str]) -> list[Agent]:
    """The agents whose required consents are all granted."""
    return [a for a in agents.values() if set(a.manifest.consents) <= consents]
