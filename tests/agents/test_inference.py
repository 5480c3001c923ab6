import logging
from datetime import UTC, datetime, timedelta

import pytest

from agents.inference import run_inference
from agents.registry import Agent
from contracts.agents import AgentManifest, FeedbackEvent, InferredParam, UserHistory

NOW = datetime(2026, 1, 1, tzinfo=UTC)
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


def history_with(feedback: int) -> UserHistory:
    events = [FeedbackEvent(kind="like", at=NOW) for _ in range(feedback)]
    return UserHistory(feedback_events=events)


def test_params_below_their_min_history_keep_the_cold_start_default() -> None:
    infer = agent(lambda h, now: {"a": 5, "b": "y"})
    assert run_inference(infer, history_with(3), now=NOW) == {"a": 5, "b": "x"}
    assert run_inference(infer, history_with(10), now=NOW) == {"a": 5, "b": "y"}


def test_a_failing_infer_gives_defaults_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    def boom(history: UserHistory, now: datetime) -> dict[str, object]:
        raise ZeroDivisionError

    with caplog.at_level(logging.ERROR):
        assert run_inference(agent(boom), history_with(100), now=NOW) == {"a": 1, "b": "x"}
    assert "infer() failed for agent t" in caplog.text
