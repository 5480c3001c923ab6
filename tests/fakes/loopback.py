"""The lifecycle shared by the provider fakes: a FastAPI app on a loopback port of its own.

Served by uvicorn in a thread, on a socket bound before it starts; every request is recorded
and queued faults (`fail_with`, `slow`) are applied in order, one per matching request.
"""

import asyncio
import base64
import contextlib
import hashlib
import json
import socket
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import parse_qsl, urlencode

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse

START_TIMEOUT_S = 10.0
Json = dict[str, Any]
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]

F = TypeVar("F", bound="LoopbackServer")


@dataclass(frozen=True)
class Call:
    """One request as a fake received it (header names lower-cased; a form body as a dict)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass(frozen=True)
class Fault:
    """An injected answer: an error status, a delay, or both; `path` is a prefix (None: any)."""

    status: int | None = None
    retry_after: float | None = None
    delay_s: float = 0.0
    error: str | None = None
    path: str | None = None

    def matches(self, path: str) -> bool:
        return self.path is None or path.startswith(self.path)


class LoopbackServer:
    """A fake provider served on a free 127.0.0.1 port until `stop()`; subclasses build the app."""

    name = "fake"

    def __init__(self) -> None:
        self.calls: list[Call] = []
        # Every request waits this long first (released on stop).
        self.latency_s = 0.0
        self._faults: list[Fault] = []
        self._sticky: list[Fault] = []
        self._lock = threading.Lock()
        self._port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._release: asyncio.Event | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def calls_to(self, path: str) -> list[Call]:
        return [c for c in self.calls if c.path == path]

    def fail_with(
        self,
        status: int,
        *,
        retry_after: float | None = None,
        error: str | None = None,
        times: int | None = 1,
        path: str | None = None,
    ) -> None:
        """The next `times` requests (to `path`) answer `status`; times=None: all of them."""
        self._queue(Fault(status=status, retry_after=retry_after, error=error, path=path), times)

    def slow(self, delay_s: float, *, times: int | None = 1, path: str | None = None) -> None:
        """The next `times` requests (to `path`) wait `delay_s` before their normal answer."""
        self._queue(Fault(delay_s=delay_s, path=path), times)

    def reset(self) -> None:
        """Forget faults and recorded calls; keep the data."""
        with self._lock:
            self._faults.clear()
            self._sticky.clear()
            self.calls.clear()

    def _queue(self, fault: Fault, times: int | None) -> None:
        with self._lock:
            if times is None:
                self._sticky.append(fault)
            else:
                self._faults.extend([fault] * times)

    def _next_fault(self, path: str) -> Fault | None:
        with self._lock:
            for i, fault in enumerate(self._faults):
                if fault.matches(path):
                    return self._faults.pop(i)
            return next((f for f in self._sticky if f.matches(path)), None)

    # --- hooks for subclasses --------------------------------------------------------------------

    def _app(self) -> FastAPI:
        raise NotImplementedError

    def _error(self, fault: Fault) -> Response:
        """An injected error in the provider's own shape."""
        raise NotImplementedError

    # --- request interception: record, delay, fault ----------------------------------------------

    def _wrap(self, app: FastAPI) -> Asgi:
        async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            body = await _read_body(receive)
            request = Request(scope)
            self.calls.append(_call(request, body))
            fault = self._next_fault(request.url.path)
            delay = self.latency_s + (fault.delay_s if fault else 0.0)
            if delay:
                await self._sleep(delay)
            if fault is not None and fault.status is not None:
                await self._error(fault)(scope, receive, send)
                return
            await app(scope, _replay(body, receive), send)

        return asgi

    async def _sleep(self, seconds: float) -> None:
        assert self._release is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._release.wait(), timeout=seconds)

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind a free loopback port and serve until `stop()`."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._sock, self._port = sock, int(sock.getsockname()[1])
        config = uvicorn.Config(
            self._wrap(self._app()),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._run, name=f"{self.name}-{self._port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the {self.name} did not start")
            time.sleep(0.005)
        return self

    def _run(self) -> None:
        async def serve() -> None:
            self._loop = asyncio.get_running_loop()
            self._release = asyncio.Event()
            assert self._server is not None and self._sock is not None
            await self._server.serve(sockets=[self._sock])

        asyncio.run(serve())

    def stop(self) -> None:
        """Release waiting requests, stop the server and free the port."""
        if self._loop is not None and self._release is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop may have ended already
                self._loop.call_soon_threadsafe(self._release.set)
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._sock is not None:
            self._sock.close()
        self._server = self._thread = self._sock = self._loop = self._release = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)


def configure(fake: F, behaviour: dict[str, Any]) -> F:
    """Set a fake's attributes from keyword arguments, refusing unknown names."""
    for name, value in behaviour.items():
        if not hasattr(fake, name):
            raise TypeError(f"unknown {fake.name} setting {name!r}")
        setattr(fake, name, value)
    return fake


async def _read_body(receive: Receive) -> bytes:
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = bool(message.get("more_body", False))
    return body


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, then the client's own messages (disconnect)."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


def _call(request: Request, raw: bytes) -> Call:
    content_type = request.headers.get("content-type", "")
    body: Any = None
    if content_type.startswith("application/x-www-form-urlencoded"):
        body = dict(parse_qsl(raw.decode(), keep_blank_values=True))
    elif raw:
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
    return Call(
        method=request.method,
        path=request.url.path,
        query=dict(request.query_params),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=body,
    )


def form_of(raw: bytes) -> dict[str, str]:
    """A urlencoded body as a dict (no python-multipart needed)."""
    return dict(parse_qsl(raw.decode(), keep_blank_values=True))


def basic_auth(request: Request) -> tuple[str, str] | None:
    """(client_id, client_secret) from `Authorization: Basic`, if any."""
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return None
    return user, password


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return header[7:] if header.lower().startswith("bearer ") else None


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of a verifier."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def redirect_with(uri: str, params: dict[str, str]) -> Response:
    sep = "&" if "?" in uri else "?"
    return RedirectResponse(f"{uri}{sep}{urlencode(params)}", status_code=302)
