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

import base64
import calendar
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from tests.fakes.loopback import (
    Fault,
    Json,
    LoopbackServer,
    basic_auth,
    bearer,
    configure,
    form_of,
    redirect_with,
    s256,
)

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
