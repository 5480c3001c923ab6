import logging
from datetime import timedelta

import pytest

from agents.inference import run_inference
from agents.registry import Agent
from contracts.agents import AgentManifest, InferredParam, UserHistory

MANIFEST = AgentManifest(
    id="t",
    version="1.0.0",
    ttl=timedelta(hours=1),
    cadence=timedelta(hours=1),
    inferred=[
        InferredParam(key="a", min_history=0, cold_start_default=1),
        InferredParam(key="b", min_history=10, cold_start_default="x"),
    ],
)


def agent(infer):  # type: ignore[no-untyped-def]
    return Agent(manifest=MANIFEST, compute=lambda h, p, n: None, infer=infer)


def test_params_below_their_min_history_keep_the_cold_start_default() -> None:
    result = run_inference(agent(lambda h: {"a": 5, "b": "y"}), UserHistory(), history_size=3)
    assert result == {"a": 5, "b": "x"}
    result = run_inference(agent(lambda h: {"a": 5, "b": "y"}), UserHistory(), history_size=10)
    assert result == {"a": 5, "b": "y"}


def test_a_failing_infer_gives_defaults_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    def boom(history: UserHistory) -> dict[str, object]:
        raise ZeroDivisionError

    with caplog.at_level(logging.ERROR):
        assert run_inference(agent(boom), UserHistory(), history_size=100) == {"a": 1, "b": "x"}
    assert "infer() failed for agent t" in caplog.text
