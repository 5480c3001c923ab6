"""Properties every registered agent must have, whatever it computes."""

import re
from datetime import UTC, datetime

import pytest

from agents import all_agents
from agents.inference import run_inference
from agents.registry import Agent
from contracts.agents import UserHistory
from sim.personas import make_garbage_history, make_persona

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
AGENTS = list(all_agents().values())
SEMVER = re.compile(r"^\d+\.\d+\.\d+$")


@pytest.fixture(params=AGENTS, ids=[a.id for a in AGENTS])
def agent(request: pytest.FixtureRequest) -> Agent:
    found: Agent = request.param
    return found


def test_manifest_is_complete(agent: Agent) -> None:
    m = agent.manifest
    assert SEMVER.match(m.version) and m.ttl.total_seconds() > 0 and m.cadence.total_seconds() > 0
    assert m.inputs and m.consents
    assert len({p.key for p in m.inferred}) == len(m.inferred)


def test_no_history_gives_every_cold_start_default_and_nothing_to_say(agent: Agent) -> None:
    empty = UserHistory()
    defaults = {p.key: p.cold_start_default for p in agent.manifest.inferred}
    assert run_inference(agent, empty, now=NOW) == defaults
    assert agent.compute(empty, {}, NOW) is None


def test_garbage_history_gives_a_clean_result(agent: Agent) -> None:
    garbage = make_garbage_history(1, end=NOW)
    inferred = run_inference(agent, garbage, now=NOW)
    assert set(inferred) == {p.key for p in agent.manifest.inferred}
    snippet = agent.compute(garbage, inferred, NOW)
    assert snippet is None or 0.0 <= snippet.salience <= 1.0


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_snippets_are_short_bounded_and_deterministic(agent: Agent, seed: int) -> None:
    persona = make_persona(seed, days=90, end=NOW)
    prefs = run_inference(agent, persona.history, now=NOW)
    first = agent.compute(persona.history, prefs, NOW)
    again = agent.compute(make_persona(seed, days=90, end=NOW).history, prefs, NOW)
    assert first == again
    if first is not None:
        assert first.agent_id == agent.id and first.agent_version == agent.manifest.version
        assert 0 < len(first.text) <= 200 and "\n" not in first.text
        assert 0.0 <= first.salience <= 1.0
        assert first.expires_at == NOW + agent.manifest.ttl
