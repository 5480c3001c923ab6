"""A fake Todoist on loopback: OAuth and the API v1 endpoints of PROVIDERS.md.

    async with fake_todoist() as fake:        # or `with fake_todoist() as fake:` in sync code
        alice = fake.account(token="tok-alice", timezone="Europe/Berlin")
        home = alice.project("Home")
        alice.complete("Pay rent", at=datetime(2026, 3, 2, 9, tzinfo=UTC), project=home,
                       due=all_day(date(2026, 3, 1)))
        alice.recurring("Stretch", due=all_day(date(2026, 3, 9), recurring=True),
                        completions=[t1, t2, t3])
        fake.fail_with(429, retry_after=3, path="/api/v1/tasks")
        ... httpx against fake.api_base with `Authorization: Bearer tok-alice` ...
        fake.calls[-1].query["limit"] == "200"

Each access token maps to one account (a user's dataset); OAuth issues fresh tokens for
`fake.authorize_as`. Pagination cursors are opaque and bound to the request's other
parameters: a changed parameter or a tampered cursor is 400, as is a limit over the endpoint's
maximum or a completed-items window over 3 months. Errors use Todoist's JSON shape.

The module also holds `LoopbackServer`, the lifecycle shared by the provider fakes (oidc.py,
google.py): a FastAPI app served by uvicorn in a thread of its own, on a socket bound before it
starts, recording every request and applying queued faults (`fail_with`, `slow`) in order, one
per matching request, before the normal answer.
"""

import asyncio
import base64
import calendar
import contextlib
import hashlib
import hmac
import json
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

START_TIMEOUT_S = 10.0
Json = dict[str, Any]
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]

F = TypeVar("F", bound="LoopbackServer")

# --- shared loopback server ---------------------------------------------------------------------


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


# --- Todoist data --------------------------------------------------------------------------------


def stamp(at: datetime, *, fractional: bool = True) -> str:
    """A Todoist UTC timestamp, with or without fractional seconds."""
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if fractional else "%Y-%m-%dT%H:%M:%SZ"
    return at.astimezone(UTC).strftime(fmt)


def all_day(day: date, *, recurring: bool = False, string: str | None = None) -> Json:
    """A due date with no time: `YYYY-MM-DD`."""
    return _due(day.isoformat(), None, recurring, string)


def floating(at: datetime, *, recurring: bool = False, string: str | None = None) -> Json:
    """A due time in the user's zone, whatever it is: `YYYY-MM-DDTHH:MM:SS`."""
    if at.tzinfo is not None:
        raise ValueError("a floating due time is naive")
    return _due(at.strftime("%Y-%m-%dT%H:%M:%S"), None, recurring, string)


def fixed(
    at: datetime, *, timezone: str, recurring: bool = False, string: str | None = None
) -> Json:
    """A due instant pinned to a zone: `...Z` with `timezone` set."""
    if at.tzinfo is None:
        raise ValueError("a fixed due time is aware")
    return _due(stamp(at, fractional=False), timezone, recurring, string)


def _due(value: str, timezone: str | None, recurring: bool, string: str | None) -> Json:
    return {
        "date": value,
        "timezone": timezone,
        "string": string or value,
        "lang": "en",
        "is_recurring": recurring,
    }


def _new_id() -> str:
    return uuid.uuid4().hex[:16]


@dataclass
class TodoistAccount:
    """One person's Todoist data; the builder methods return what they add."""

    email: str = "person@example.com"
    full_name: str = "Fake Person"
    timezone: str = "UTC"
    joined_at: datetime = datetime(2025, 1, 6, 8, 30, tzinfo=UTC)
    id: str = field(default_factory=_new_id)
    projects: list[Json] = field(default_factory=list)
    tasks: list[Json] = field(default_factory=list)
    completed: list[Json] = field(default_factory=list)
    events: list[Json] = field(default_factory=list)
    inbox: str = field(init=False)

    def __post_init__(self) -> None:
        self.inbox = self.project("Inbox", inbox=True)

    def project(self, name: str, *, inbox: bool = False) -> str:
        """A new project; returns its id."""
        pid = _new_id()
        self.projects.append(
            {
                "id": pid,
                "name": name,
                "description": "",
                "color": "charcoal",
                "parent_id": None,
                "child_order": len(self.projects),
                "is_inbox_project": inbox,
                "is_favorite": False,
                "is_shared": False,
                "is_archived": False,
                "is_deleted": False,
                "is_collapsed": False,
                "view_style": "list",
                "created_at": stamp(self.joined_at),
                "updated_at": stamp(self.joined_at),
            }
        )
        return pid

    def task(
        self,
        content: str,
        *,
        project: str | None = None,
        due: Json | None = None,
        priority: int = 1,
        added_at: datetime | None = None,
    ) -> Json:
        """An open task."""
        task = self._task(content, project, due, priority, added_at or self.joined_at)
        self.tasks.append(task)
        return task

    def complete(
        self,
        content: str,
        *,
        at: datetime,
        project: str | None = None,
        due: Json | None = None,
        priority: int = 1,
        fractional: bool = True,
    ) -> Json:
        """A completed one-off task: a completed item and an `item:completed` event."""
        task = self._task(content, project, due, priority, min(at, self.joined_at))
        task.update(checked=True, completed_at=stamp(at, fractional=fractional))
        task["completed_by_uid"] = self.id
        self.completed.append(task)
        self._event(task, at, recurring=False, fractional=fractional)
        return task

    def recurring(
        self,
        content: str,
        *,
        due: Json,
        completions: Sequence[datetime] = (),
        project: str | None = None,
        priority: int = 1,
    ) -> Json:
        """An open recurring task completed at `completions`: events only, no completed item."""
        task = self.task(
            content, project=project, due={**due, "is_recurring": True}, priority=priority
        )
        for i, at in enumerate(completions):
            self._event(task, at, recurring=True, fractional=i % 2 == 0)
        return task

    def _task(
        self, content: str, project: str | None, due: Json | None, priority: int, added: datetime
    ) -> Json:
        return {
            "id": _new_id(),
            "user_id": self.id,
            "project_id": project or self.inbox,
            "section_id": None,
            "parent_id": None,
            "content": content,
            "description": "",
            "priority": priority,
            "due": due,
            "deadline": None,
            "duration": None,
            "labels": [],
            "child_order": len(self.tasks) + len(self.completed),
            "day_order": -1,
            "is_collapsed": False,
            "added_by_uid": self.id,
            "assigned_by_uid": None,
            "responsible_uid": None,
            "checked": False,
            "is_deleted": False,
            "added_at": stamp(added),
            "updated_at": stamp(added, fractional=False),
            "completed_at": None,
            "completed_by_uid": None,
            "note_count": 0,
        }

    def _event(self, task: Json, at: datetime, *, recurring: bool, fractional: bool) -> None:
        extra: Json = {"content": task["content"], "client": "Todoist-Web"}
        if recurring:
            extra["is_recurring"] = True
        self.events.append(
            {
                "id": str(10_000_000 + len(self.events)),
                "object_type": "item",
                "object_id": task["id"],
                "event_type": "completed",
                "event_date": stamp(at, fractional=fractional),
                "parent_project_id": task["project_id"],
                "parent_item_id": None,
                "initiator_id": None,
                "extra_data": extra,
            }
        )

    def user_body(self) -> Json:
        offset = datetime.now(ZoneInfo(self.timezone)).utcoffset() or timedelta(0)
        minutes = int(offset.total_seconds()) // 60
        sign = "-" if minutes < 0 else "+"
        hours, mins = divmod(abs(minutes), 60)
        return {
            "id": self.id,
            "email": self.email,
            "full_name": self.full_name,
            "inbox_project_id": self.inbox,
            "tz_info": {
                "timezone": self.timezone,
                "gmt_string": f"{sign}{hours:02d}:{mins:02d}",
                "hours": hours if minutes >= 0 else -hours,
                "minutes": mins,
                "is_dst": 0,
            },
            "joined_at": stamp(self.joined_at),
            "lang": "en",
            "daily_goal": 5,
            "weekly_goal": 25,
            "start_day": 1,
            "start_page": "today",
            "days_off": [6, 7],
            "is_premium": True,
            "premium_status": "current_personal_plan",
        }


# --- the fake ------------------------------------------------------------------------------------

_ERRORS: dict[int, tuple[int, str, str]] = {
    400: (20, "INVALID_ARGUMENT_VALUE", "Invalid argument value"),
    401: (401, "AUTH_INVALID_TOKEN", "Invalid token"),
    403: (403, "FORBIDDEN", "Forbidden"),
    404: (478, "NOT_FOUND", "Not found"),
    429: (35, "LIMITS_REACHED", "Too many requests. Limits reached. Try again later"),
    500: (500, "INTERNAL_SERVER_ERROR", "Internal server error"),
    503: (503, "SERVICE_UNAVAILABLE", "Service unavailable"),
}


def todoist_error(
    status: int, *, message: str | None = None, extra: Json | None = None, headers: Any = None
) -> JSONResponse:
    """An error in Todoist's JSON shape."""
    code, tag, default = _ERRORS.get(status, (status, "UNKNOWN_ERROR", "Unknown error"))
    body = {
        "error": message or default,
        "error_code": code,
        "error_extra": {"event_id": secrets.token_hex(16), **(extra or {})},
        "error_tag": tag,
        "http_code": status,
    }
    return JSONResponse(body, status_code=status, headers=headers)


def _bad_argument(argument: str) -> JSONResponse:
    return todoist_error(400, extra={"argument": argument})


@dataclass
class _Code:
    account: TodoistAccount
    redirect_uri: str
    challenge: str | None


class FakeTodoist(LoopbackServer):
    """The fake's data and behaviour; mutate it between requests."""

    name = "fake-todoist"

    def __init__(self) -> None:
        super().__init__()
        self.client_id = "todoist-client-id"
        self.client_secret = "todoist-client-secret"
        self.redirect_uri = "http://127.0.0.1/integrations/todoist/callback"
        # Who the next OAuth authorization logs in (a new empty account when None).
        self.authorize_as: TodoistAccount | None = None
        # Repeat the last item of a page at the top of the next one (dedupe by id!).
        self.overlap_pages = False
        self.tokens: dict[str, TodoistAccount] = {}
        self.revoked: list[str] = []
        self._codes: dict[str, _Code] = {}
        self._denials = 0
        self._secret = secrets.token_bytes(16)

    @property
    def api_base(self) -> str:
        return f"{self.url}/api/v1"

    @property
    def authorize_url(self) -> str:
        return f"{self.url}/oauth/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.url}/oauth/access_token"

    def account(self, *, token: str | None = None, **fields: Any) -> TodoistAccount:
        """A new account reached with `token` (a fresh one when None: see `token_of`)."""
        acct = TodoistAccount(**fields)
        self.tokens[token or f"tdt-{secrets.token_hex(20)}"] = acct
        return acct

    def token_of(self, account: TodoistAccount) -> str:
        return next(t for t, a in self.tokens.items() if a is account)

    def deny(self, *, times: int = 1) -> None:
        """The next authorizations redirect back with `error=access_denied` and no state."""
        self._denials += times

    def _error(self, fault: Fault) -> Response:
        status = fault.status or 500
        if fault.retry_after is None:
            return todoist_error(status, message=fault.error)
        secs = int(fault.retry_after)
        return todoist_error(
            status,
            message=fault.error,
            extra={"retry_after": secs},
            headers={"Retry-After": str(secs)},
        )

    def _app(self) -> FastAPI:
        app = FastAPI()
        app.add_api_route("/oauth/authorize", self._authorize, methods=["GET"])
        app.add_api_route("/oauth/access_token", self._access_token, methods=["POST"])
        api = "/api/v1"
        app.add_api_route(f"{api}/user", self._user, methods=["GET"])
        app.add_api_route(f"{api}/projects", self._projects, methods=["GET"])
        app.add_api_route(f"{api}/tasks", self._tasks, methods=["GET"])
        app.add_api_route(
            f"{api}/tasks/completed/by_completion_date", self._completed, methods=["GET"]
        )
        app.add_api_route(f"{api}/activities", self._activities, methods=["GET"])
        app.add_api_route(f"{api}/revoke", self._revoke, methods=["POST"])
        app.add_api_route(f"{api}/access_tokens", self._delete_token, methods=["DELETE"])
        return app

    # --- OAuth ---------------------------------------------------------------------------------

    async def _authorize(self, request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != self.client_id:
            return todoist_error(400, message="Invalid client_id")
        if q.get("code_challenge") and q.get("code_challenge_method") != "S256":
            return todoist_error(400, message="Unsupported code_challenge_method")
        redirect = q.get("redirect_uri") or self.redirect_uri
        if self._denials:
            self._denials -= 1
            return redirect_with(redirect, {"error": "access_denied"})
        code = secrets.token_urlsafe(16)
        account = self.authorize_as or TodoistAccount()
        self._codes[code] = _Code(account, redirect, q.get("code_challenge"))
        state = {"state": q["state"]} if "state" in q else {}
        return redirect_with(redirect, {"code": code, **state})

    async def _access_token(self, request: Request) -> Response:
        form = form_of(await request.body())
        # Client credentials in the form body only (client_secret_post), as Todoist takes them:
        # authlib's default (Basic) fails here as it would against the real endpoint.
        if (form.get("client_id"), form.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return todoist_error(400, message="invalid_client")
        grant = self._codes.pop(form.get("code", ""), None)
        if grant is None:
            return todoist_error(400, message="invalid_grant")
        if grant.challenge and s256(form.get("code_verifier", "")) != grant.challenge:
            return todoist_error(400, message="invalid_grant")
        token = f"tdt-{secrets.token_hex(20)}"
        self.tokens[token] = grant.account
        return JSONResponse({"access_token": token, "token_type": "Bearer"})

    async def _revoke(self, request: Request) -> Response:
        if basic_auth(request) != (self.client_id, self.client_secret):
            return todoist_error(401, message="invalid_client")
        form = form_of(await request.body())
        self._forget(form.get("token", ""))
        return Response(status_code=200)

    async def _delete_token(self, request: Request) -> Response:
        q = request.query_params
        if (q.get("client_id"), q.get("client_secret")) != (self.client_id, self.client_secret):
            return todoist_error(401, message="invalid_client")
        self._forget(q.get("access_token", ""))
        return Response(status_code=200)

    def _forget(self, token: str) -> None:
        if self.tokens.pop(token, None) is not None:
            self.revoked.append(token)

    # --- API v1 --------------------------------------------------------------------------------

    def _who(self, request: Request) -> TodoistAccount | None:
        token = bearer(request)
        return self.tokens.get(token) if token else None

    async def _user(self, request: Request) -> Response:
        acct = self._who(request)
        return todoist_error(401) if acct is None else JSONResponse(acct.user_body())

    async def _projects(self, request: Request) -> Response:
        acct = self._who(request)
        if acct is None:
            return todoist_error(401)
        return self._page(request, acct.projects, key="results", max_limit=200)

    async def _tasks(self, request: Request) -> Response:
        acct = self._who(request)
        if acct is None:
            return todoist_error(401)
        return self._page(request, acct.tasks, key="results", max_limit=200)

    async def _completed(self, request: Request) -> Response:
        acct = self._who(request)
        if acct is None:
            return todoist_error(401)
        window = _window(request)
        if isinstance(window, Response):
            return window
        since, until = window
        items = [t for t in acct.completed if since <= _parse(t["completed_at"]) <= until]
        items.sort(key=lambda t: _parse(t["completed_at"]), reverse=True)
        return self._page(request, items, key="items", max_limit=200)

    async def _activities(self, request: Request) -> Response:
        acct = self._who(request)
        if acct is None:
            return todoist_error(401)
        wanted = _event_types(request)
        if wanted is None:
            return _bad_argument("object_event_types")
        events = [e for e in acct.events if not wanted or _event_type(e) in wanted]
        events.sort(key=lambda e: _parse(e["event_date"]), reverse=True)
        return self._page(request, events, key="results", max_limit=100)

    # --- pagination ----------------------------------------------------------------------------

    def _page(self, request: Request, items: list[Json], *, key: str, max_limit: int) -> Response:
        q = request.query_params
        try:
            limit = int(q.get("limit", "50"))
        except ValueError:
            return _bad_argument("limit")
        if not 1 <= limit <= max_limit:
            return _bad_argument("limit")
        fingerprint = self._fingerprint(request)
        offset = 0
        if "cursor" in q:
            decoded = self._decode_cursor(q["cursor"], fingerprint)
            if decoded is None:
                return _bad_argument("cursor")
            offset = decoded
        end = offset + limit
        step = limit - 1 if self.overlap_pages and limit > 1 else limit
        more = end < len(items)
        cursor = self._encode_cursor(offset + step, fingerprint) if more else None
        return JSONResponse({key: items[offset:end], "next_cursor": cursor})

    def _fingerprint(self, request: Request) -> str:
        params = sorted((k, v) for k, v in request.query_params.multi_items() if k != "cursor")
        return hashlib.sha256(f"{request.url.path}?{urlencode(params)}".encode()).hexdigest()

    def _encode_cursor(self, offset: int, fingerprint: str) -> str:
        payload = base64.urlsafe_b64encode(json.dumps([offset, fingerprint]).encode()).decode()
        mac = hmac.new(self._secret, payload.encode(), hashlib.sha256).hexdigest()[:20]
        return f"{payload}.{mac}"

    def _decode_cursor(self, cursor: str, fingerprint: str) -> int | None:
        payload, _, mac = cursor.partition(".")
        good = hmac.new(self._secret, payload.encode(), hashlib.sha256).hexdigest()[:20]
        if not hmac.compare_digest(mac, good):
            return None
        offset, bound = json.loads(base64.urlsafe_b64decode(payload))
        return int(offset) if bound == fingerprint else None


def fake_todoist(**behaviour: Any) -> FakeTodoist:
    """A fake Todoist to enter with `with` or `async with`; keyword arguments set attributes."""
    return configure(FakeTodoist(), behaviour)


def redirect_with(uri: str, params: dict[str, str]) -> Response:
    sep = "&" if "?" in uri else "?"
    return RedirectResponse(f"{uri}{sep}{urlencode(params)}", status_code=302)


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _utc_param(request: Request, name: str) -> datetime | None:
    value = request.query_params.get(name, "")
    if not value.endswith("Z"):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _plus_months(at: datetime, months: int) -> datetime:
    month = at.month - 1 + months
    year, month = at.year + month // 12, month % 12 + 1
    day = min(at.day, calendar.monthrange(year, month)[1])
    return at.replace(year=year, month=month, day=day)


def _window(request: Request) -> tuple[datetime, datetime] | Response:
    """`since` and `until`: UTC `Z` times at most 3 months apart."""
    since, until = _utc_param(request, "since"), _utc_param(request, "until")
    if since is None:
        return _bad_argument("since")
    if until is None or until < since or until > _plus_months(since, 3):
        return _bad_argument("until")
    return since, until


def _event_type(event: Json) -> str:
    return f"{event['object_type']}:{event['event_type']}"


def _event_types(request: Request) -> set[str] | None:
    """`object_event_types` as a JSON array (or repeated values); None when malformed."""
    values = request.query_params.getlist("object_event_types")
    wanted: set[str] = set()
    for value in values:
        if value.startswith("["):
            try:
                parsed = json.loads(value)
            except ValueError:
                return None
            if not isinstance(parsed, list) or not all(isinstance(v, str) for v in parsed):
                return None
            wanted.update(parsed)
        else:
            wanted.add(value)
    return wanted
