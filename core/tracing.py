"""MLflow tracing, best effort: spans around agent compute, tip storing and the LLM call.

Observability is never on the critical path (DESIGN §0). Without a tracking URI, or without
the `mlflow-tracing` package, `span()` returns one shared no-op. Otherwise the experiment is
looked up on a daemon thread, retried until the server answers, and spans are recorded only
once it is known; MLflow then exports them from its own background threads with one short
HTTP attempt each, so a dead or hanging server costs the caller nothing. No MLflow error
reaches the caller, and each kind is logged once.

Attributes are allow-listed (opaque ids, salience, status, generator, model, latency,
counts): no task text, email or secret can reach a span, and a failing body records only its
error type, never its message.
"""

import importlib
import logging
import os
import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any
from uuid import UUID

from core.settings import Settings

log = logging.getLogger(__name__)

# MLflow's own knobs, set unless the operator chose otherwise: export on MLflow's background
# threads; one HTTP attempt with a short timeout (its default retries for minutes, which
# `set_experiment` would wait through); a small export queue, which bounds memory and the
# flush at exit when the server is gone (a full queue drops traces rather than blocking);
# and no run links printed to stdout (they name the tracking host).
MLFLOW_ENV = {
    "MLFLOW_ENABLE_ASYNC_TRACE_LOGGING": "true",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "2",
    "MLFLOW_ASYNC_TRACE_LOGGING_MAX_QUEUE_SIZE": "100",
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
}
# MLflow warns once per failed export; a dead server would flood the worker's log.
EXPORT_LOGGERS = ("mlflow.tracing.export.mlflow_v3", "mlflow.tracing.export.async_export_queue")
EXPORT_WARNING_INTERVAL_S = 600.0
RETRY_MIN_S = 2.0
RETRY_MAX_S = 60.0
ATTRIBUTES = frozenset(
    {
        "user_id",
        "agent_id",
        "agent_ids",
        "agent_version",
        "users",
        "computed",
        "salience",
        "has_snippet",
        "status",
        "reason",
        "generator",
        "candidates",
        "snippets",
        "model",
        "served_model",
        "latency_ms",
        "http_status",
        "outcome",
        "guard",
        "error",
    }
)
MAX_VALUE_CHARS = 100

Value = str | int | float | bool | list[str | int | float | bool]

_warned: set[str] = set()


def _warn_once(kind: str, message: str, exc: BaseException) -> None:
    """Log one warning per kind of failure, with the error's type only.

    Never the message: MLflow's may quote the tracking URI, which may hold credentials.
    """
    if kind not in _warned:
        _warned.add(kind)
        log.warning(message, type(exc).__name__)


def _mlflow() -> Any:
    """The mlflow module, imported only when tracing is configured (it is an optional extra)."""
    return importlib.import_module("mlflow")


def _value(value: object) -> Value | None:
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, str | UUID):
        return str(value)[:MAX_VALUE_CHARS]
    if isinstance(value, list | tuple):
        items = [_value(v) for v in value]
        return [v for v in items if v is not None and not isinstance(v, list)]
    return None


def clean_attributes(attributes: Mapping[str, object]) -> dict[str, Value]:
    """The allow-listed attributes with plain values; anything else is dropped."""
    clean = {}
    for key, raw in attributes.items():
        value = _value(raw) if key in ATTRIBUTES else None
        if value is not None:
            clean[key] = value
    return clean


class Span:
    """The open span: `set()` adds attributes (allow-listed); a no-op while tracing is off."""

    def set(self, **attributes: object) -> None:
        """Add attributes to the span."""

    def __enter__(self) -> "Span":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


_NOOP = Span()


class _MlflowSpan(Span):
    """An MLflow span whose failures are swallowed; the body's exceptions pass through."""

    def __init__(self, name: str, attributes: dict[str, object]) -> None:
        self._name = name
        self._attributes = attributes
        self._cm: Any = None
        self._live: Any = None

    def __enter__(self) -> Span:
        try:
            cm = _mlflow().start_span(name=self._name)
            self._live = cm.__enter__()
            self._cm = cm
        except Exception as exc:
            _warn_once("span", "MLflow span failed, tracing continues without it (%s)", exc)
            return self
        self.set(**self._attributes)
        return self

    def set(self, **attributes: object) -> None:
        if self._live is None:
            return
        try:
            self._live.set_attributes(clean_attributes(attributes))
        except Exception as exc:
            _warn_once("attributes", "MLflow span attributes failed (%s)", exc)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._cm is None:
            return None
        if exc is not None:
            # The error's type only (not the exception): messages may quote data.
            error_type = getattr(exc, "type", None)
            self.set(error=error_type if isinstance(error_type, str) else type(exc).__name__)
            try:
                self._live.set_status("ERROR")
            except Exception as err:
                _warn_once("status", "MLflow span status failed (%s)", err)
        try:
            self._cm.__exit__(None, None, None)
        except Exception as err:
            _warn_once("end", "MLflow span could not be ended (%s)", err)
        return None


class _Throttle(logging.Filter):
    """One record per interval: a dead tracking server must not flood the log."""

    def __init__(self, interval_s: float) -> None:
        super().__init__()
        self._interval_s = interval_s
        self._next = 0.0

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        if now < self._next:
            return False
        self._next = now + self._interval_s
        return True


class _Session:
    """One configuration: its experiment lookup, and whether spans are recorded."""

    def __init__(self) -> None:
        self.attempted = threading.Event()
        self.ready = threading.Event()
        self.stopped = threading.Event()
        self.experiment_id: str | None = None

    def attach(self, experiment: str) -> None:
        """Look the experiment up until the server answers or the session is stopped."""
        delay = RETRY_MIN_S
        while not self.stopped.is_set():
            try:
                self.experiment_id = str(_mlflow().set_experiment(experiment).experiment_id)
            except Exception as exc:
                # A stopped session says nothing: its lookup may end after a newer session
                # (or a test) has started, whose once-only warning it must not take.
                if not self.stopped.is_set():
                    _warn_once("attach", "MLflow unreachable (%s); retrying in the background", exc)
                self.attempted.set()
                self.stopped.wait(delay)
                delay = min(delay * 2, RETRY_MAX_S)
                continue
            if not self.stopped.is_set():
                self.ready.set()
            self.attempted.set()
            return


_session: _Session | None = None


def configure_tracing(settings: Settings, *, wait_s: float = 0.0) -> bool:
    """Trace to MLflow when a tracking URI is set; True once spans are being recorded.

    Never raises and never waits on the server beyond `wait_s` (0 at worker start), which
    bounds the wait for the first answer to the experiment lookup.
    """
    global _session
    if not settings.mlflow_tracking_uri:
        return False
    try:
        mlflow = _mlflow()
        for key, value in MLFLOW_ENV.items():
            os.environ.setdefault(key, value)
        for name in EXPORT_LOGGERS:
            logger = logging.getLogger(name)
            if not any(isinstance(f, _Throttle) for f in logger.filters):
                logger.addFilter(_Throttle(EXPORT_WARNING_INTERVAL_S))
        mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    except ImportError as exc:
        _warn_once("import", "OO_MLFLOW_TRACKING_URI is set but mlflow is missing (%s)", exc)
        return False
    except Exception as exc:
        _warn_once("configure", "MLflow tracing is off (%s)", exc)
        return False
    shutdown_tracing()
    session = _session = _Session()
    threading.Thread(
        target=session.attach, args=(settings.mlflow_experiment,), name="oo-mlflow", daemon=True
    ).start()
    session.attempted.wait(wait_s)
    return session.ready.is_set()


def tracing_enabled() -> bool:
    """Whether spans are being recorded now."""
    session = _session
    return session is not None and session.ready.is_set()


def shutdown_tracing() -> None:
    """Stop recording spans and stop looking for the server (tests, re-configuration)."""
    global _session
    if _session is not None:
        _session.stopped.set()
        _session.ready.clear()
    _session = None


def span(name: str, **attributes: object) -> Span:
    """A span around a block, or a shared no-op while tracing is off. Never raises for MLflow."""
    if not tracing_enabled():
        return _NOOP
    return _MlflowSpan(name, attributes)


def log_run(name: str, *, metrics: Mapping[str, float], params: Mapping[str, object]) -> str | None:
    """Log a run (an evaluation's summary) in the experiment; its id, or None when it failed."""
    session = _session
    if session is None or not session.ready.is_set() or session.experiment_id is None:
        return None
    try:
        entities = importlib.import_module("mlflow.entities")
        # mlflow-tracing has no public run API (mlflow.start_run lives in the full package).
        service = importlib.import_module("mlflow.tracking._tracking_service.client")
        client = service.TrackingServiceClient(_mlflow().get_tracking_uri())
        run_id = str(client.create_run(session.experiment_id, run_name=name).info.run_id)
        now = int(time.time() * 1000)
        client.log_batch(
            run_id,
            metrics=[entities.Metric(k, float(v), now, 0) for k, v in metrics.items()],
            params=[entities.Param(k, str(v)) for k, v in params.items()],
        )
        client.set_terminated(run_id)
    except Exception as exc:
        _warn_once("run", "MLflow run not logged (%s)", exc)
        return None
    return run_id
