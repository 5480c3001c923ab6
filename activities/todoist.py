"""Todoist API v1 over httpx: the reads we need, paginated, with one error translation point.

Errors are translated here, once, into the ApplicationError types of contracts/errors.py:
429 → PROVIDER_RATE_LIMITED, retried after the provider's `Retry-After`; 401/403 →
PROVIDER_UNAUTHORIZED, never retried (the caller marks the integration reconnect_required);
5xx, 408, timeouts and transport errors → PROVIDER_UNAVAILABLE, retried with backoff; any other
4xx → PROVIDER_BAD_REQUEST, never retried; a 2xx body that is not the documented envelope →
PROVIDER_BAD_RESPONSE. The token travels only in the Authorization header: never in a URL, a
log line or an error message. See docs/adr/0004-todoist-client.md.
"""

import json
import logging
import re
from collections.abc import AsyncIterator, Callable, Hashable
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from temporalio.exceptions import ApplicationError

from contracts.errors import (
    PROVIDER_BAD_REQUEST,
    PROVIDER_BAD_RESPONSE,
    PROVIDER_RATE_LIMITED,
    PROVIDER_UNAUTHORIZED,
    PROVIDER_UNAVAILABLE,
)

logger = logging.getLogger(__name__)

Json = dict[str, Any]
API_BASE = "https://api.todoist.com/api/v1"
TIMEOUT_S = 15.0
CONNECT_TIMEOUT_S = 5.0
PAGE_LIMIT = 200  # /tasks, /projects, completed items: 400 above it
ACTIVITY_LIMIT = 100  # /activities: 400 above it
# Completed items are served in windows of at most 3 months; 89 days fits in any 3 calendar
# months (Feb 1 → May 1 is 89 days).
WINDOW = timedelta(days=89)
# Honour the provider's delay, but never park a retry longer than its 15-minute rate window.
RETRY_AFTER_CAP = timedelta(minutes=15)
COMPLETED_EVENTS = json.dumps(["item:completed"])


def new_todoist_http(timeout_s: float = TIMEOUT_S) -> httpx.AsyncClient:
    """A client for Todoist: no system proxy, explicit timeouts."""
    timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, CONNECT_TIMEOUT_S))
    return httpx.AsyncClient(trust_env=False, timeout=timeout)


class TodoistClient:
    """The Todoist reads of oO; every method takes the user's access token."""

    def __init__(self, http: httpx.AsyncClient, *, api_base: str = API_BASE) -> None:
        self._http = http
        self._base = api_base.rstrip("/")

    async def user(self, token: str) -> Json:
        """The person: `tz_info.timezone`, `joined_at`, goals, days off."""
        return await self._get("/user", {}, token)

    async def projects(self, token: str) -> list[Json]:
        pages = self._pages("/projects", {"limit": PAGE_LIMIT}, token, key="results")
        return [p async for page in _unique(pages, _id) for p in page]

    async def active_tasks(self, token: str) -> list[Json]:
        pages = self._pages("/tasks", {"limit": PAGE_LIMIT}, token, key="results")
        return [t async for page in _unique(pages, _id) for t in page]

    def completed_pages(
        self, token: str, *, since: datetime, until: datetime
    ) -> AsyncIterator[list[Json]]:
        """Completed (non-recurring) tasks in [since, until], page by page, each id once."""
        return _unique(self._windows(token, since, until), _id)

    async def _windows(
        self, token: str, since: datetime, until: datetime
    ) -> AsyncIterator[list[Json]]:
        start = since
        while start < until:
            end = min(start + WINDOW, until)
            params = {"since": utc_z(start), "until": utc_z(end, ceil=True), "limit": PAGE_LIMIT}
            path = "/tasks/completed/by_completion_date"
            async for page in self._pages(path, params, token, key="items"):
                yield page
            start = end

    def completion_event_pages(
        self, token: str, *, since: datetime | None = None
    ) -> AsyncIterator[list[Json]]:
        """`item:completed` events (recurring tasks included), newest first, each once."""
        return _unique(self._events(token, since), _event_id)

    async def _events(self, token: str, since: datetime | None) -> AsyncIterator[list[Json]]:
        params = {"object_event_types": COMPLETED_EVENTS, "limit": ACTIVITY_LIMIT}
        async for page in self._pages("/activities", params, token, key="results"):
            if since is None:
                yield page
                continue
            recent = [e for e in page if _event_time(e) >= since]
            yield recent
            # Events come newest first: once one is older than `since`, the rest are too.
            if len(recent) < len(page):
                return

    async def _pages(
        self, path: str, params: Json, token: str, *, key: str
    ) -> AsyncIterator[list[Json]]:
        """Follow `next_cursor` with identical other parameters until it is null or missing."""
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            query = params if cursor is None else {**params, "cursor": cursor}
            body = await self._get(path, query, token)
            items = body.get(key)
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                _bad_response(path)
            yield items
            cursor = body.get("next_cursor")
            if not cursor:
                return
            if not isinstance(cursor, str) or cursor in seen:
                _bad_response(path)
            seen.add(cursor)

    async def _get(self, path: str, params: Json, token: str) -> Json:
        try:
            response = await self._http.get(
                f"{self._base}{path}",
                params=params,
                headers={"Authorization": f"Bearer {token}"},
            )
        except httpx.TimeoutException as exc:
            raise _unavailable(f"Todoist did not answer in time on {path}") from exc
        except httpx.TransportError as exc:
            # The class name only: transport messages may quote the request.
            raise _unavailable(f"Todoist unreachable ({type(exc).__name__})") from exc
        check_status(response, path)
        try:
            body = response.json()
        except ValueError:
            _bad_response(path)
        if not isinstance(body, dict):
            _bad_response(path)
        return body


def check_status(response: httpx.Response, path: str) -> None:
    """Raise the ApplicationError that a non-2xx Todoist answer means."""
    status = response.status_code
    if status < 400:
        return
    what = f"Todoist answered {status}{_tag(response)} on {path}"
    logger.warning("%s", what)
    if status == 429:
        raise ApplicationError(
            what, type=PROVIDER_RATE_LIMITED, next_retry_delay=retry_after(response)
        )
    if status in (401, 403):
        raise ApplicationError(what, type=PROVIDER_UNAUTHORIZED, non_retryable=True)
    if status >= 500 or status == 408:
        raise _unavailable(what)
    raise ApplicationError(what, type=PROVIDER_BAD_REQUEST, non_retryable=True)


def retry_after(response: httpx.Response, *, now: datetime | None = None) -> timedelta | None:
    """The delay a 429 asks for: `Retry-After` (seconds or HTTP date), else `error_extra`."""
    seconds = _header_seconds(response.headers.get("retry-after"), now)
    if seconds is None:
        extra = _error_body(response).get("error_extra")
        value = extra.get("retry_after") if isinstance(extra, dict) else None
        seconds = float(value) if isinstance(value, int | float) else None
    if seconds is None:
        return None
    return min(RETRY_AFTER_CAP, timedelta(seconds=max(0.0, seconds)))


def _header_seconds(header: str | None, now: datetime | None) -> float | None:
    if not header:
        return None
    try:
        return float(header.strip())
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return (when - (now or datetime.now(UTC))).total_seconds()


def _error_body(response: httpx.Response) -> Json:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _tag(response: httpx.Response) -> str:
    """Todoist's `error_tag` (a fixed code, never user data), for the message."""
    tag = _error_body(response).get("error_tag")
    return f" {tag}" if isinstance(tag, str) and re.fullmatch(r"[A-Z_]{1,64}", tag) else ""


def _unavailable(message: str) -> ApplicationError:
    return ApplicationError(message, type=PROVIDER_UNAVAILABLE)


def _bad_response(path: str) -> NoReturn:
    raise ApplicationError(
        f"Todoist answered {path} with an unexpected body", type=PROVIDER_BAD_RESPONSE
    )


async def _unique(
    pages: AsyncIterator[list[Json]], key: Callable[[Json], Hashable]
) -> AsyncIterator[list[Json]]:
    """Pages without items already seen (cursors over changing data may repeat some)."""
    seen: set[Hashable] = set()
    async for page in pages:
        fresh = []
        for item in page:
            k = key(item)
            if k not in seen:
                seen.add(k)
                fresh.append(item)
        yield fresh


def _id(item: Json) -> Hashable:
    return item.get("id")


def _event_id(event: Json) -> Hashable:
    eid = event.get("id")
    return eid if eid is not None else (event.get("object_id"), event.get("event_date"))


def _event_time(event: Json) -> datetime:
    try:
        return parse_time(str(event["event_date"]))
    except (KeyError, ValueError):
        return datetime.max.replace(tzinfo=UTC)  # undated: kept, the mapper drops it


# --- the wire's times --------------------------------------------------------------------------


def utc_z(at: datetime, *, ceil: bool = False) -> str:
    """A UTC `Z` time to the second, as Todoist takes it (`ceil` rounds up)."""
    at = at.astimezone(UTC)
    if ceil and at.microsecond:
        at += timedelta(seconds=1)
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str) -> datetime:
    """A Todoist timestamp (with or without fractional seconds) as an aware UTC datetime."""
    at = datetime.fromisoformat(value)
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC)


_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2}):?(\d{2})$")


def zone_of(name: object) -> tzinfo | None:
    """An IANA zone or a `UTC±HH:MM` offset; None when unknown."""
    if not isinstance(name, str) or not name:
        return None
    match = _OFFSET.match(name)
    if match:
        sign, hours, minutes = match.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes))
        return timezone(-delta if sign == "-" else delta)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def user_zone(user: Json) -> tzinfo:
    """The person's zone from `/user` (`tz_info.timezone`), UTC when missing or unknown."""
    tz_info = user.get("tz_info")
    name = tz_info.get("timezone") if isinstance(tz_info, dict) else None
    return zone_of(name) or UTC


def parse_due(due: object, zone: tzinfo) -> tuple[datetime | None, bool]:
    """`(due_at in UTC, all_day)` from a task's `due`, in the person's zone where it floats.

    `YYYY-MM-DD` is all day: the start of that day in the person's zone. A time without an
    offset floats in the person's zone (or the due's own `timezone` when given); a `Z` time is
    an instant.
    """
    if not isinstance(due, dict) or not isinstance(due.get("date"), str):
        return None, True
    value: str = due["date"]
    if "T" not in value:
        start = datetime.combine(date.fromisoformat(value), time(), zone)
        return start.astimezone(UTC), True
    at = datetime.fromisoformat(value)
    if at.tzinfo is None:
        at = at.replace(tzinfo=zone_of(due.get("timezone")) or zone)
    return at.astimezone(UTC), False
