"""A fake LiteLLM proxy on loopback that speaks the OpenAI wire format of PROVIDERS.md.

    async with fake_litellm() as fake:      # or `with fake_litellm() as fake:` in sync code
        fake.reply = "S1 todo: Call the plumber."
        fake.fail_with(429, retry_after=3, times=1)
        ... httpx against fake.url ...
        fake.calls[-1].body["model"] == "tip-generator"

The server runs in a thread of its own (its own event loop), on a socket bound before it
starts, so that it works from sync and async code alike, whatever the caller's loop is doing.
Leaving the context releases any hanging request, stops uvicorn and closes the socket.
Behaviour applies to both endpoints; faults queued by `fail_with`, `hang` and `garbage` are
consumed in order, one per request, before the normal reply.
"""

import asyncio
import contextlib
import hashlib
import json
import math
import socket
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

GarbageKind = Literal["not_json", "no_choices", "no_content"]
DEFAULT_REPLY = "S1 advice: Take a five-minute walk, then start the next thing."
START_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Call:
    """One request as the fake received it (header names lower-cased)."""

    path: str
    headers: dict[str, str]
    body: Any


@dataclass(frozen=True)
class _Fault:
    status: int = 200
    retry_after: str | None = None
    hang: bool = False
    garbage: GarbageKind | None = None


@dataclass
class FakeLiteLLM:
    """The fake's state and behaviour; mutate it between requests."""

    reply: str = DEFAULT_REPLY
    model: str = "fake/tip-model"
    latency_s: float = 0.0
    embedding_dim: int = 8
    # When set, requests without `Authorization: Bearer <api_key>` get 401.
    api_key: str | None = None
    # How long a hanging request waits before giving up (it is released on stop anyway).
    hang_s: float = 60.0
    calls: list[Call] = field(default_factory=list)
    _faults: list[_Fault] = field(default_factory=list)
    _sticky: _Fault | None = None
    _port: int = 0
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None
    _sock: socket.socket | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _release: asyncio.Event | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        """The proxy's base URL (LITELLM_URL)."""
        return f"http://127.0.0.1:{self._port}"

    @property
    def chat_calls(self) -> list[Call]:
        return [c for c in self.calls if c.path == "/v1/chat/completions"]

    def fail_with(
        self, status: int, *, retry_after: float | str | None = None, times: int = 1
    ) -> None:
        """The next `times` requests answer `status` (with `Retry-After` when given)."""
        header = None if retry_after is None else str(retry_after)
        self._queue(_Fault(status=status, retry_after=header), times)

    def hang(self, *, times: int | None = None) -> None:
        """Requests never answer within any sane client timeout (all of them when times=None)."""
        self._queue(_Fault(hang=True), times)

    def garbage(self, kind: GarbageKind = "not_json", *, times: int | None = None) -> None:
        """Requests answer 200 with a body that is not a chat completion."""
        self._queue(_Fault(garbage=kind), times)

    def reset(self) -> None:
        """Forget faults and calls; keep the reply and settings."""
        with self._lock:
            self._faults.clear()
            self._sticky = None
            self.calls.clear()

    def _queue(self, fault: _Fault, times: int | None) -> None:
        with self._lock:
            if times is None:
                self._sticky = fault
            else:
                self._faults.extend([fault] * times)

    def _next_fault(self) -> _Fault | None:
        with self._lock:
            return self._faults.pop(0) if self._faults else self._sticky

    # --- the app -----------------------------------------------------------------------------

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def chat(request: Request) -> Response:
            return await self._handle(request, self._chat_body)

        @app.post("/v1/embeddings")
        async def embeddings(request: Request) -> Response:
            return await self._handle(request, self._embeddings_body)

        return app

    async def _handle(self, request: Request, ok_body: Any) -> Response:
        raw = await request.body()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        self.calls.append(
            Call(request.url.path, {k.lower(): v for k, v in request.headers.items()}, body)
        )
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        if (
            self.api_key is not None
            and request.headers.get("authorization") != f"Bearer {self.api_key}"
        ):
            return _error(401, "Authentication Error, invalid api key")
        fault = self._next_fault()
        if fault is not None:
            answer = await self._fault_response(fault)
            if answer is not None:
                return answer
        if not isinstance(body, dict):
            return _error(400, "request body must be a JSON object")
        return JSONResponse(ok_body(body))

    async def _fault_response(self, fault: _Fault) -> Response | None:
        if fault.hang:
            assert self._release is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._release.wait(), timeout=self.hang_s)
            return _error(504, "gateway timeout")
        if fault.garbage == "not_json":
            return Response("<html>upstream exploded</html>", media_type="text/html")
        if fault.garbage == "no_choices":
            return JSONResponse(
                {"id": "chatcmpl-fake", "object": "chat.completion", "model": self.model}
            )
        if fault.garbage == "no_content":
            return JSONResponse(
                {"choices": [{"message": {"role": "assistant"}}], "model": self.model}
            )
        if fault.status >= 400:
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            return _error(fault.status, "fake failure", headers)
        return None

    def _chat_body(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-fake-{len(self.calls)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": self.reply},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
        }

    def _embeddings_body(self, body: dict[str, Any]) -> dict[str, Any]:
        inputs = body.get("input", [])
        texts = [inputs] if isinstance(inputs, str) else [str(t) for t in inputs]
        return {
            "object": "list",
            "model": body.get("model", "embedder"),
            "data": [
                {"object": "embedding", "index": i, "embedding": embedding(t, self.embedding_dim)}
                for i, t in enumerate(texts)
            ],
            "usage": {"prompt_tokens": len(texts), "total_tokens": len(texts)},
        }

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "FakeLiteLLM":
        """Bind a free loopback port and serve until `stop()`."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self._sock, self._port = sock, int(sock.getsockname()[1])
        config = uvicorn.Config(
            self._app(),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._run, name=f"fake-litellm-{self._port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the fake LiteLLM did not start")
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
        """Release hanging requests, stop the server and free the port."""
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

    def __enter__(self) -> "FakeLiteLLM":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> "FakeLiteLLM":
        return await asyncio.to_thread(self.start)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)


def fake_litellm(**behaviour: Any) -> FakeLiteLLM:
    """A fake proxy to enter with `with` or `async with`; keyword arguments set its fields."""
    return FakeLiteLLM(**behaviour)


def embedding(text: str, dim: int) -> list[float]:
    """A deterministic unit vector for a text (same text, same vector)."""
    digest = hashlib.sha256(text.encode()).digest()
    raw = [(digest[i % len(digest)] - 127.5) / 127.5 for i in range(dim)]
    norm = math.sqrt(sum(v * v for v in raw)) or 1.0
    return [v / norm for v in raw]


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """An error in LiteLLM's OpenAI-style envelope."""
    body = {"error": {"message": message, "type": "fake_error", "param": None, "code": str(status)}}
    return JSONResponse(body, status_code=status, headers=headers)
