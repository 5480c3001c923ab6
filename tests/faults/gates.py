"""Provider fakes that hold a chosen request until the test lets it go.

A fault is injected "mid-workflow" when an activity is known to be inside a provider call:
the fake holds that call at a gate, the test breaks something (a server, the database), then
opens the gate and the activity carries on. Built on the fakes' `_app` hook (tests/fakes).
"""

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response

from tests.fakes.litellm import FakeLiteLLM
from tests.fakes.loopback import Fault
from tests.fakes.todoist import FakeTodoist

# A gate never opened (a failing test) lets its request go after this long.
HOLD_LIMIT_S = 120.0
Next = Callable[[Request], Awaitable[Response]]


class Gate:
    """Holds the `nth` request to `path` (1-based) until `open()`; every other request passes."""

    def __init__(self, path: str, *, nth: int = 1) -> None:
        self.path = path
        self.nth = nth
        self.seen = 0
        self._arrived = threading.Event()
        self._opened = threading.Event()

    async def reached(self, timeout: float = 60.0) -> None:
        """Wait until the held request has arrived."""
        if not await asyncio.to_thread(self._arrived.wait, timeout):
            raise AssertionError(f"no request {self.nth} to {self.path} within {timeout:g} s")

    def open(self) -> None:
        self._opened.set()

    async def hold(self, request: Request) -> None:
        """Called for every request: returns at once unless this is the one to hold."""
        if request.url.path != self.path:
            return
        self.seen += 1
        if self.seen == self.nth:
            self._arrived.set()
            await asyncio.to_thread(self._opened.wait, HOLD_LIMIT_S)


def _gated(app: FastAPI, gates: list[Gate], stamps: list[tuple[float, str]] | None) -> FastAPI:
    @app.middleware("http")
    async def gated(request: Request, call_next: Next) -> Response:
        if stamps is not None:
            stamps.append((time.monotonic(), request.url.path))
        for gate in list(gates):
            await gate.hold(request)
        return await call_next(request)

    return app


class _Gates:
    """Gates over a fake provider's app (mixed in before the fake): `gate()` holds a request
    until its gate opens; `stop()` opens every gate first, so nothing hangs the server."""

    prefix = ""  # of the paths gates name
    gates: list[Gate]
    stamps: list[tuple[float, str]] | None = None

    def gate(self, path: str, *, nth: int = 1) -> Gate:
        """Hold the `nth` request to `path` (under `prefix`) until the gate opens."""
        gate = Gate(f"{self.prefix}{path}", nth=nth)
        self.gates.append(gate)
        return gate

    def stop(self) -> None:
        for gate in self.gates:
            gate.open()
        super().stop()  # type: ignore[misc]

    def _app(self) -> FastAPI:
        return _gated(super()._app(), self.gates, self.stamps)  # type: ignore[misc]


class GatedTodoist(_Gates, FakeTodoist):
    """The fake Todoist with gates, and `stamps`: (monotonic time, what) of every request that
    reached the API (what: its path) and of every injected error (what: its status)."""

    name = "gated-todoist"
    prefix = "/api/v1"

    def __init__(self) -> None:
        super().__init__()
        self.gates = []
        self.stamps = []

    def _error(self, fault: Fault) -> Response:
        assert self.stamps is not None
        self.stamps.append((time.monotonic(), str(fault.status)))
        return super()._error(fault)


class GatedLiteLLM(_Gates, FakeLiteLLM):
    """The fake LiteLLM with gates (see `GatedTodoist`)."""

    def __init__(self, **behaviour: Any) -> None:
        super().__init__(**behaviour)
        self.gates = []

    def gate(self, path: str = "/v1/chat/completions", *, nth: int = 1) -> Gate:
        return super().gate(path, nth=nth)
