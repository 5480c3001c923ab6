"""History sync: Todoist completions in, hashed derivatives out — never task text.

Two sources make one history: completed items by completion date (one-off tasks, with their
due and priority) and `item:completed` activity events, the only place where completions of
recurring tasks show. An event whose task is also a completed item of this sync is skipped.
Keys are HMAC-SHA256 of the provider ids under a per-deployment salt, so the database never
holds a Todoist id either; the same salt must key live fetches so that keys match.
"""

import hashlib
import hmac
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.todoist import Json, TodoistClient, parse_due, parse_time, user_zone
from contracts.agents import TaskCompletion
from contracts.errors import INTEGRATION_NOT_CONNECTED
from contracts.sync import SyncHistoryInput, SyncHistoryResult
from contracts.temporal import SYNC_TODOIST_HISTORY
from store.history import add_completions
from store.models import Integration

logger = logging.getLogger(__name__)

TODOIST = "todoist"
# A resumed sync looks back this far past the last one: completions made offline arrive late.
SYNC_OVERLAP = timedelta(days=2)
# Without `joined_at` a first sync walks back this far.
DEFAULT_BACKFILL = timedelta(days=365)

# (user_id, provider) -> the decrypted access token, or None when not connected.
TokenSource = Callable[[uuid.UUID, str], Awaitable[str | None]]


def hashed_key(salt: bytes, kind: str, provider_id: str) -> str:
    """The opaque key of a Todoist object: HMAC-SHA256 (hex, 64 chars) under the salt."""
    message = f"{TODOIST}:{kind}:{provider_id}".encode()
    return hmac.new(salt, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class _TaskFacts:
    """What the sync keeps of an open task, in memory only: no text."""

    priority: int
    recurring: bool


@dataclass
class _Run:
    """One sync's tally."""

    user_id: uuid.UUID
    zone: tzinfo
    tasks: dict[str, _TaskFacts]
    new: int = 0
    pages: int = 0
    skipped: int = 0
    newest: datetime | None = None
    completed_ids: set[str] = field(default_factory=set)


class SyncActivities:
    """Reads a person's provider history and stores its derivatives."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        http: httpx.AsyncClient,
        *,
        todoist_api_base: str,
        tokens: TokenSource,
        key_salt: bytes,
    ) -> None:
        if not key_salt:
            raise ValueError("key_salt must not be empty")
        self._sessions = sessions
        self._todoist = TodoistClient(http, api_base=todoist_api_base)
        self._tokens = tokens
        self._salt = key_salt

    @activity.defn(name=SYNC_TODOIST_HISTORY)
    async def sync_todoist_history(self, inp: SyncHistoryInput) -> SyncHistoryResult:
        """Store new Todoist completions (idempotent) and advance the sync cursor."""
        token = await self._tokens(inp.user_id, TODOIST)
        if not token:
            raise ApplicationError(
                "Todoist is not connected", type=INTEGRATION_NOT_CONNECTED, non_retryable=True
            )
        user = await self._todoist.user(token)
        until = datetime.now(UTC)
        since = inp.since or await self._resume_point(inp.user_id) or _joined(user, until)
        run = _Run(inp.user_id, user_zone(user), await self._task_facts(token))
        async for page in self._todoist.completed_pages(token, since=since, until=until):
            run.completed_ids.update(str(item.get("id")) for item in page)
            await self._store(run, [self._from_item(item, run) for item in page])
        async for page in self._todoist.completion_event_pages(token, since=since):
            events = [e for e in page if str(e.get("object_id")) not in run.completed_ids]
            await self._store(run, [self._from_event(e, run) for e in events])
        if run.skipped:
            logger.warning("Todoist sync skipped %d malformed records", run.skipped)
        cursor = await self._save_cursor(run, until)
        return SyncHistoryResult(new_completions=run.new, cursor=cursor)

    async def _task_facts(self, token: str) -> dict[str, _TaskFacts]:
        """Priority and recurrence of open tasks (events carry neither); text is dropped here."""
        facts = {}
        for task in await self._todoist.active_tasks(token):
            due = task.get("due")
            recurring = isinstance(due, dict) and due.get("is_recurring") is True
            facts[str(task.get("id"))] = _TaskFacts(_priority(task.get("priority")), recurring)
        return facts

    async def _store(self, run: _Run, mapped: list[TaskCompletion | None]) -> None:
        completions = [c for c in mapped if c is not None]
        run.skipped += len(mapped) - len(completions)
        run.pages += 1
        if completions:
            async with self._sessions.begin() as db:
                run.new += await add_completions(
                    db, user_id=run.user_id, completions=completions, source=TODOIST
                )
            newest = max(c.completed_at for c in completions)
            run.newest = newest if run.newest is None else max(run.newest, newest)
        activity.heartbeat(run.pages)

    def _key(self, kind: str, provider_id: object) -> str | None:
        if provider_id is None or provider_id == "":
            return None
        return hashed_key(self._salt, kind, str(provider_id))

    def _task_key(self, provider_id: object) -> str:
        key = self._key("task", provider_id)
        if key is None:
            raise KeyError("id")
        return key

    def _from_item(self, item: Json, run: _Run) -> TaskCompletion | None:
        """A completed item as a derivative; None when it is malformed."""
        try:
            due_at, all_day = parse_due(item.get("due"), run.zone)
            due = item.get("due")
            return TaskCompletion(
                task_key=self._task_key(item.get("id")),
                project_key=self._key("project", item.get("project_id")),
                completed_at=parse_time(str(item["completed_at"])),
                due_at=due_at,
                due_all_day=all_day,
                priority=_priority(item.get("priority")),
                recurring=isinstance(due, dict) and due.get("is_recurring") is True,
            )
        except (KeyError, TypeError, ValueError):
            return None

    def _from_event(self, event: Json, run: _Run) -> TaskCompletion | None:
        """An `item:completed` event as a derivative; due unknown (the task has moved on)."""
        if (event.get("object_type"), event.get("event_type")) != ("item", "completed"):
            return None
        task_id = event.get("object_id")
        facts = run.tasks.get(str(task_id))
        extra = event.get("extra_data")
        flagged = isinstance(extra, dict) and extra.get("is_recurring") is True
        try:
            return TaskCompletion(
                task_key=self._task_key(task_id),
                project_key=self._key("project", event.get("parent_project_id")),
                completed_at=parse_time(str(event["event_date"])),
                priority=facts.priority if facts else 1,
                recurring=flagged or bool(facts and facts.recurring),
            )
        except (KeyError, TypeError, ValueError):
            return None

    async def _resume_point(self, user_id: uuid.UUID) -> datetime | None:
        async with self._sessions() as db:
            cursor = await db.scalar(
                select(Integration.sync_cursor).where(
                    Integration.user_id == user_id, Integration.provider == TODOIST
                )
            )
        synced = _cursor_time(cursor, "synced_until")
        return None if synced is None else synced - SYNC_OVERLAP

    async def _save_cursor(self, run: _Run, until: datetime) -> datetime | None:
        """Record how far the sync looked and the newest completion; returns the latter."""
        async with self._sessions.begin() as db:
            row = await db.scalar(
                select(Integration).where(
                    Integration.user_id == run.user_id, Integration.provider == TODOIST
                )
            )
            if row is None:
                row = Integration(user_id=run.user_id, provider=TODOIST, status="active")
                db.add(row)
            old = row.sync_cursor or {}
            last = _latest(_cursor_time(old, "last_completed_at"), run.newest)
            synced = _latest(_cursor_time(old, "synced_until"), until)
            row.sync_cursor = {
                **old,
                "last_completed_at": last.isoformat() if last else None,
                "synced_until": synced.isoformat() if synced else None,
            }
        return last


def _priority(value: object) -> int:
    return value if isinstance(value, int) and 1 <= value <= 4 else 1


def _joined(user: Json, until: datetime) -> datetime:
    try:
        return parse_time(str(user["joined_at"]))
    except (KeyError, ValueError):
        return until - DEFAULT_BACKFILL


def _cursor_time(cursor: dict[str, Any] | None, key: str) -> datetime | None:
    value = (cursor or {}).get(key)
    try:
        return parse_time(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return max((t for t in (a, b) if t is not None), default=None)
