"""MLflow tracing: a no-op when off, never in the way when the server is gone, real spans when up.

`mlflow-tracing` stores nothing locally (its file and sqlite stores need the full `mlflow`
package), so the spans are checked where they really go: a small fake MLflow server on
loopback that answers the experiment lookup, runs, and the OTLP span export (`/v1/traces`).
"""

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import mlflow
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import ActivityDeps
from activities.agents import AgentActivities
from activities.llm import LlmActivities, new_http_client
from activities.tips import TipActivities
from agents import all_agents
from contracts.errors import LLM_REJECTED
from contracts.llm import GenerateTipTextInput
from contracts.tips import AgentComputeInput, Candidate, StoreTipInput, TipDraft
from core import tracing
from core.settings import Settings
from tests.factories import free_tcp_port, persona_user
from tests.fakes.litellm import fake_litellm

NOW = datetime.now(UTC).replace(microsecond=0)
EXPERIMENT_ID = "7"
# Traced calls may cost this much more than untraced ones, in total over the run.
SLACK_S = 0.5


@dataclass(frozen=True)
class ExportedSpan:
    name: str
    attributes: dict[str, Any]
    error: bool
    events: list[str]


@dataclass
class FakeMlflow:
    """Just enough of an MLflow tracking server: experiments, runs and OTLP spans."""

    spans: list[ExportedSpan] = field(default_factory=list)
    calls: list[tuple[str, str, bytes]] = field(default_factory=list)
    # When set, every request but the experiment lookup hangs until `release` (or 30 s).
    hang: bool = False
    release: threading.Event = field(default_factory=threading.Event)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "FakeMlflow":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                fake.handle(self, "GET")

            def do_POST(self) -> None:
                fake.handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Release hanging requests and close the port."""
        self.release.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        url = urlparse(h.path)
        raw = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        self.calls.append((method, url.path, raw))
        if url.path.endswith("/experiments/get-by-name"):
            name = parse_qs(url.query)["experiment_name"][0]
            return _send(h, {"experiment": _experiment(name)})
        if self.hang:
            self.release.wait(30)
        if url.path == "/version":
            return _send(h, b"3.5.0")
        if url.path == "/v1/traces":
            self.spans += _decode_spans(raw)
            return _send(h, {})
        if url.path == "/api/3.0/mlflow/traces":
            trace = json.loads(raw)["trace"]
            trace["trace_info"].setdefault("tags", {})["mlflow.trace.spansLocation"] = (
                "TRACKING_STORE"
            )
            return _send(h, {"trace": trace})
        if url.path.endswith(("/runs/create", "/runs/get")):
            return _send(h, {"run": _run()})
        if url.path.endswith(("/runs/log-batch", "/runs/update")):
            return _send(h, {})
        return _send(h, {"error_code": "ENDPOINT_NOT_FOUND", "message": url.path}, 404)

    def named(self, name: str) -> list[ExportedSpan]:
        return [s for s in self.spans if s.name == name]

    def wait_for(self, *names: str, timeout_s: float = 10.0) -> None:
        """Flush MLflow's export queues until spans of every name arrived."""
        deadline = time.monotonic() + timeout_s
        while not all(self.named(n) for n in names):
            assert time.monotonic() < deadline, f"spans never arrived: {names}"
            mlflow.flush_trace_async_logging()
            time.sleep(0.05)


def _send(h: BaseHTTPRequestHandler, body: Any, status: int = 200) -> None:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    h.send_response(status)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(len(data)))
    h.end_headers()
    h.wfile.write(data)


def _experiment(name: str) -> dict[str, Any]:
    return {
        "experiment_id": EXPERIMENT_ID,
        "name": name,
        "lifecycle_stage": "active",
        "artifact_location": f"mlflow-artifacts:/{EXPERIMENT_ID}",
    }


def _run() -> dict[str, Any]:
    info = {
        "run_id": "run-1",
        "experiment_id": EXPERIMENT_ID,
        "status": "RUNNING",
        "start_time": 1,
        "lifecycle_stage": "active",
    }
    return {"info": info, "data": {}}


def _any(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_any(v) for v in value.array_value.values]
    return getattr(value, kind) if kind else None


def _decode_spans(raw: bytes) -> list[ExportedSpan]:
    request = ExportTraceServiceRequest()
    request.ParseFromString(raw)
    return [
        ExportedSpan(
            name=span.name,
            attributes={a.key: _any(a.value) for a in span.attributes},
            error=span.status.code == span.status.STATUS_CODE_ERROR,
            events=[str(e) for e in span.events],
        )
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]


def own(span: ExportedSpan) -> dict[str, Any]:
    """The attributes oO set (MLflow adds its own under `mlflow.`)."""
    return {k: v for k, v in span.attributes.items() if not k.startswith("mlflow.")}


@pytest.fixture
def mlflow_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Undo what tracing changes: environment, MLflow's globals, log filters, our session."""
    from mlflow.tracking import fluent
    from mlflow.tracking._tracking_service import utils

    for key in [*tracing.MLFLOW_ENV, "MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_ID"]:
        monkeypatch.setenv(key, "")  # records the original value, restored at teardown
        monkeypatch.delenv(key)
    monkeypatch.setattr(utils, "_tracking_uri", utils._tracking_uri)
    monkeypatch.setattr(fluent, "_active_experiment_id", fluent._active_experiment_id)
    monkeypatch.setattr(tracing, "_warned", set())
    for name in tracing.EXPORT_LOGGERS:
        logger = logging.getLogger(name)
        monkeypatch.setattr(logger, "filters", list(logger.filters))
    yield
    tracing.shutdown_tracing()
    mlflow.tracing.reset()


@pytest.fixture
def fake_mlflow() -> Iterator[FakeMlflow]:
    fake = FakeMlflow().start()
    yield fake
    fake.stop()


@pytest.fixture
async def agent_activities(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[tuple[AgentActivities, uuid.UUID]]:
    user_id = await persona_user(sessions, now=NOW)
    deps = ActivityDeps(sessions=sessions, agents=all_agents(), tip_ttl=timedelta(hours=3))
    yield AgentActivities(deps), user_id


def traced_settings(uri: str) -> Settings:
    return Settings(mlflow_tracking_uri=uri, mlflow_experiment="oo-test")


async def compute_all(activities: AgentActivities, user_id: uuid.UUID, rounds: int) -> list[str]:
    """Every agent's snippet for the user, `rounds` times, through the real activity."""
    env = ActivityEnvironment()
    texts = []
    for _ in range(rounds):
        for agent_id in all_agents():
            inp = AgentComputeInput(user_id=user_id, agent_id=agent_id, as_of=NOW)
            result = await env.run(activities.compute_agent_snippet, inp)
            texts.append(result.snippet.text if result.snippet else "")
    return texts


async def timed(activities: AgentActivities, user_id: uuid.UUID) -> tuple[float, list[str]]:
    started = time.perf_counter()
    texts = await compute_all(activities, user_id, rounds=3)
    return time.perf_counter() - started, texts


# --- off ------------------------------------------------------------------------------------


def test_span_is_a_shared_noop_while_tracing_is_off(
    mlflow_state: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_mlflow(**kwargs: object) -> None:
        raise AssertionError("MLflow was called with tracing off")

    monkeypatch.setattr(mlflow, "start_span", no_mlflow)
    assert tracing.configure_tracing(Settings(mlflow_tracking_uri=None)) is False
    assert not tracing.tracing_enabled()
    with tracing.span("agent.compute", user_id=uuid.uuid4()) as traced:
        traced.set(salience=0.5)
    assert tracing.span("a") is tracing.span("b", agent_id="x")
    boom = ValueError("boom")
    with pytest.raises(ValueError) as raised, tracing.span("x"):
        raise boom
    assert raised.value is boom
    assert not any(key in os.environ for key in tracing.MLFLOW_ENV)


def test_only_allow_listed_plain_attributes_are_kept() -> None:
    user_id = uuid.uuid4()
    clean = tracing.clean_attributes(
        {
            "user_id": user_id,
            "salience": 0.5,
            "agent_ids": ("a", "b", object()),
            "status": "tip",
            "text": "Call the plumber",  # task text
            "email": "ada@example.com",
            "api_key": "sk-secret",
            "model": None,
            "outcome": object(),
        }
    )
    assert clean == {
        "user_id": str(user_id),
        "salience": 0.5,
        "agent_ids": ["a", "b"],
        "status": "tip",
    }


# --- a dead server ---------------------------------------------------------------------------


async def test_a_closed_port_neither_slows_nor_fails_the_activities(
    mlflow_state: None,
    agent_activities: tuple[AgentActivities, uuid.UUID],
    caplog: pytest.LogCaptureFixture,
) -> None:
    activities, user_id = agent_activities
    await compute_all(activities, user_id, rounds=1)  # warm up: imports, first queries
    untraced_s, untraced = await timed(activities, user_id)

    started = time.perf_counter()
    on = tracing.configure_tracing(traced_settings(f"http://127.0.0.1:{free_tcp_port()}"))
    configure_s = time.perf_counter() - started
    traced_s, traced = await timed(activities, user_id)
    print(
        f"closed port: configure {configure_s:.3f} s, {len(traced)} computes "
        f"untraced {untraced_s:.3f} s, traced {traced_s:.3f} s"
    )

    assert on is False and configure_s < SLACK_S
    assert traced == untraced
    assert traced_s <= untraced_s + SLACK_S
    tracing.configure_tracing(traced_settings(f"http://127.0.0.1:{free_tcp_port()}"))
    unreachable = [r for r in caplog.records if "MLflow unreachable" in r.getMessage()]
    assert len(unreachable) == 1  # once, however often it fails
    assert "127.0.0.1" not in unreachable[0].getMessage()


@pytest.mark.parametrize("death", ["closed", "hanging"])
async def test_a_server_lost_after_start_neither_slows_nor_fails_the_activities(
    mlflow_state: None,
    fake_mlflow: FakeMlflow,
    agent_activities: tuple[AgentActivities, uuid.UUID],
    monkeypatch: pytest.MonkeyPatch,
    death: str,
) -> None:
    activities, user_id = agent_activities
    # Export while the activities run rather than every 5 s: the harshest case for them.
    monkeypatch.setenv("MLFLOW_ASYNC_TRACE_LOGGING_MAX_INTERVAL_MILLIS", "20")
    await compute_all(activities, user_id, rounds=1)
    untraced_s, untraced = await timed(activities, user_id)

    assert tracing.configure_tracing(traced_settings(fake_mlflow.url), wait_s=5)
    if death == "closed":
        fake_mlflow.stop()
    else:
        fake_mlflow.hang = True
    opened: list[str] = []
    start_span = mlflow.start_span

    def counting(**kwargs: Any) -> Any:
        opened.append(kwargs["name"])
        return start_span(**kwargs)

    monkeypatch.setattr(mlflow, "start_span", counting)
    traced_s, traced = await timed(activities, user_id)
    print(
        f"{death} after start: {len(traced)} computes, {len(opened)} spans, "
        f"untraced {untraced_s:.3f} s, traced {traced_s:.3f} s"
    )

    assert opened.count("agent.compute") == len(traced)
    assert traced == untraced
    assert traced_s <= untraced_s + SLACK_S


# --- a live server ---------------------------------------------------------------------------


async def test_the_activities_spans_reach_mlflow_with_safe_attributes(
    mlflow_state: None,
    fake_mlflow: FakeMlflow,
    agent_activities: tuple[AgentActivities, uuid.UUID],
) -> None:
    activities, user_id = agent_activities
    assert tracing.configure_tracing(traced_settings(fake_mlflow.url), wait_s=5)
    env = ActivityEnvironment()
    inp = AgentComputeInput(user_id=user_id, agent_id="time-of-day", as_of=NOW)
    computed = await env.run(activities.compute_agent_snippet, inp)
    assert computed.snippet is not None
    tips = TipActivities(activities._deps)
    draft = TipDraft(text="Call the plumber.", agent_ids=["time-of-day"], generator="llm")
    stored = StoreTipInput(
        user_id=user_id,
        status="tip",
        reason="next",
        draft=draft,
        candidates=[Candidate(agent_id="time-of-day", salience=computed.snippet.salience)],
        run_id=f"run-{uuid.uuid4()}",
        as_of=NOW,
    )
    await env.run(tips.store_tip, stored)
    snippet = computed.snippet
    with fake_litellm(reply="S1 todo: Call the plumber before lunch.") as llm:
        async with new_http_client(5) as http:
            writer = LlmActivities(
                http, base_url=llm.url, api_key=None, timeout_s=5, max_tokens=120, temperature=0
            )
            text_inp = GenerateTipTextInput(snippets=[snippet], as_of=NOW, local_time="Tue 08:40")
            await env.run(writer.generate_tip_text, text_inp)
            llm.reply = "S1 todo: see https://example.com now"
            with pytest.raises(ApplicationError):
                await env.run(writer.generate_tip_text, text_inp)

    fake_mlflow.wait_for("agent.compute", "tip.store", "llm.generate_tip_text")
    [compute] = fake_mlflow.named("agent.compute")
    assert own(compute) == {
        "user_id": str(user_id),
        "agent_id": "time-of-day",
        "salience": snippet.salience,
        "has_snippet": True,
    }
    [store] = fake_mlflow.named("tip.store")
    assert own(store) == {
        "user_id": str(user_id),
        "status": "tip",
        "reason": "next",
        "generator": "llm",
        "agent_ids": ["time-of-day"],
        "candidates": 1,
    }
    fake_mlflow.wait_for("llm.generate_tip_text")
    ok, rejected = sorted(fake_mlflow.named("llm.generate_tip_text"), key=lambda s: s.error)
    assert own(ok)["model"] == "tip-generator" and own(ok)["outcome"] == "ok"
    assert own(ok)["guard"] == "ok" and own(ok)["http_status"] == 200
    assert isinstance(own(ok)["latency_ms"], int) and not ok.error
    assert rejected.error and own(rejected)["error"] == LLM_REJECTED
    assert own(rejected)["guard"] == "link"
    for span in fake_mlflow.spans:
        assert set(own(span)) <= tracing.ATTRIBUTES
        # No task text, tip text or URL from the reply ever leaves in a span.
        dumped = json.dumps(own(span)) + "".join(span.events)
        assert "plumber" not in dumped and "example.com" not in dumped
        assert snippet.text not in dumped


async def test_a_failing_body_is_recorded_by_its_type_only(
    mlflow_state: None, fake_mlflow: FakeMlflow
) -> None:
    assert tracing.configure_tracing(traced_settings(fake_mlflow.url), wait_s=5)
    boom = ValueError("no such user ada@example.com")
    with pytest.raises(ValueError) as raised, tracing.span("tip.store", status="tip"):
        raise boom
    assert raised.value is boom
    fake_mlflow.wait_for("tip.store")
    [span] = fake_mlflow.named("tip.store")
    assert span.error and own(span) == {"status": "tip", "error": "ValueError"}
    assert "ada@example.com" not in "".join(span.events)


def test_mlflow_failures_are_swallowed_and_logged_once(
    mlflow_state: None,
    fake_mlflow: FakeMlflow,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert tracing.configure_tracing(traced_settings(fake_mlflow.url), wait_s=5)

    def broken(**kwargs: object) -> None:
        raise RuntimeError("mlflow exploded")

    monkeypatch.setattr(mlflow, "start_span", broken)
    done = []
    for i in range(3):
        with tracing.span("agent.compute", agent_id="x") as traced:
            traced.set(salience=0.1)
            done.append(i)
    assert done == [0, 1, 2]
    failures = [r for r in caplog.records if r.name == tracing.__name__]
    assert [r.getMessage() for r in failures] == [
        "MLflow span failed, tracing continues without it (RuntimeError)"
    ]


def test_configure_never_raises_without_mlflow(
    mlflow_state: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def missing() -> None:
        raise ImportError("No module named 'mlflow'")

    monkeypatch.setattr(tracing, "_mlflow", missing)
    settings = traced_settings("http://127.0.0.1:5000")
    assert tracing.configure_tracing(settings) is False
    assert tracing.configure_tracing(settings) is False
    assert len([r for r in caplog.records if r.name == tracing.__name__]) == 1
    with tracing.span("x"):
        pass


def test_a_run_logs_its_metrics_and_params(mlflow_state: None, fake_mlflow: FakeMlflow) -> None:
    assert tracing.log_run("eval-tips", metrics={"tips": 3.0}, params={"personas": 3}) is None
    assert tracing.configure_tracing(traced_settings(fake_mlflow.url), wait_s=5)
    run_id = tracing.log_run("eval-tips", metrics={"tips": 3.0}, params={"personas": 3})
    assert run_id == "run-1"
    [batch] = [json.loads(raw) for _, path, raw in fake_mlflow.calls if "log-batch" in path]
    assert [(m["key"], m["value"]) for m in batch["metrics"]] == [("tips", 3.0)]
    assert batch["params"] == [{"key": "personas", "value": "3"}]
