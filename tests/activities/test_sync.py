"""sync_todoist_history against the fake Todoist and a real database."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.sync import TODOIST, SyncActivities, hashed_key
from activities.todoist import new_todoist_http
from contracts.errors import INTEGRATION_NOT_CONNECTED, PROVIDER_UNAUTHORIZED
from contracts.sync import SyncHistoryInput
from store import users
from store.models import Base, Integration, TaskCompletion
from tests.fakes.todoist import FakeTodoist, TodoistAccount, all_day, fake_todoist, fixed, floating

TOKEN = "tdt-sync-secret-91c4e2"
SALT = b"per-deployment-salt-for-tests"
CANARY = "Canary-7d1f: call Dr. Zoidberg about the rash"
NOW = datetime.now(UTC).replace(microsecond=0)
JOINED = NOW - timedelta(days=240)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTodoist]:
    async with fake_todoist() as f:
        yield f


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with new_todoist_http(timeout_s=2.0) as client:
        yield client


async def new_user(sessions: async_sessionmaker[AsyncSession]) -> uuid.UUID:
    async with sessions.begin() as db:
        return (await users.create_user(db, display_name=None, tz="Europe/Berlin")).id


def seed(acct: TodoistAccount) -> dict[str, Any]:
    """Months of one-off completions in three due forms, and a recurring habit."""
    work = acct.project(f"{CANARY} (project)")
    made = {"one_offs": [], "work": work}
    for i, days_ago in enumerate(range(230, 0, -23)):
        at = NOW - timedelta(days=days_ago, hours=i)
        due = [
            all_day(date(2026, 1, 15)),
            floating(datetime(2026, 7, 1, 18, 30)),
            fixed(datetime(2026, 7, 1, 16, 0, tzinfo=UTC), timezone="America/New_York"),
        ][i % 3]
        task = acct.complete(
            f"{CANARY} #{i}",
            at=at,
            project=work,
            due=due,
            priority=1 + i % 4,
            fractional=i % 2 == 0,
        )
        made["one_offs"].append(task)
    habit_times = [NOW - timedelta(days=d, hours=2) for d in (1, 2, 3)]
    made["habit"] = acct.recurring(
        f"{CANARY} habit",
        due=all_day(NOW.date() + timedelta(days=1)),
        completions=habit_times,
        priority=3,
    )
    made["habit_times"] = habit_times
    acct.task(f"{CANARY} open", project=work)
    return made


def sync(
    sessions: async_sessionmaker[AsyncSession], http: httpx.AsyncClient, fake: FakeTodoist
) -> SyncActivities:
    async def tokens(user_id: uuid.UUID, provider: str) -> str | None:
        return TOKEN if provider == TODOIST else None

    return SyncActivities(
        sessions, http, todoist_api_base=fake.api_base, tokens=tokens, key_salt=SALT
    )


async def rows(sessions: async_sessionmaker[AsyncSession], user_id: uuid.UUID) -> list[Any]:
    async with sessions() as db:
        stmt = select(TaskCompletion).where(TaskCompletion.user_id == user_id)
        return list((await db.scalars(stmt)).all())


async def test_sync_stores_derivatives_once_with_recurring_events_under_one_key(
    sessions: async_sessionmaker[AsyncSession], http: httpx.AsyncClient, fake: FakeTodoist
) -> None:
    user_id = await new_user(sessions)
    made = seed(fake.account(token=TOKEN, timezone="Europe/Berlin", joined_at=JOINED))
    env = ActivityEnvironment()
    beats: list[Any] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    activities = sync(sessions, http, fake)

    first = await env.run(activities.sync_todoist_history, SyncHistoryInput(user_id=user_id))

    one_offs, habit = made["one_offs"], made["habit"]
    assert first.new_completions == len(one_offs) + 3
    assert first.cursor == max(made["habit_times"])
    assert len(beats) >= 4  # one per page: 3 windows of completed items, 1 of events
    stored = await rows(sessions, user_id)
    habit_key = hashed_key(SALT, "task", habit["id"])
    habit_rows = sorted(
        (r for r in stored if r.task_key == habit_key), key=lambda r: r.completed_at
    )
    assert [r.completed_at for r in habit_rows] == sorted(made["habit_times"])
    assert all(r.recurring and r.priority == 3 and r.due_at is None for r in habit_rows)
    for task in one_offs:  # one-off completions were not doubled by their activity events
        assert sum(r.task_key == hashed_key(SALT, "task", task["id"]) for r in stored) == 1

    again = await env.run(activities.sync_todoist_history, SyncHistoryInput(user_id=user_id))
    assert again.new_completions == 0 and len(await rows(sessions, user_id)) == len(stored)


async def test_due_priority_and_keys_are_mapped(
    sessions: async_sessionmaker[AsyncSession], http: httpx.AsyncClient, fake: FakeTodoist
) -> None:
    user_id = await new_user(sessions)
    made = seed(fake.account(token=TOKEN, timezone="Europe/Berlin", joined_at=JOINED))
    await ActivityEnvironment().run(
        sync(sessions, http, fake).sync_todoist_history, SyncHistoryInput(user_id=user_id)
    )
    by_key = {r.task_key: r for r in await rows(sessions, user_id)}
    expected_due = [
        (datetime(2026, 1, 14, 23, 0, tzinfo=UTC), True),  # all day, Berlin winter
        (datetime(2026, 7, 1, 16, 30, tzinfo=UTC), False),  # floating 18:30 Berlin summer
        (datetime(2026, 7, 1, 16, 0, tzinfo=UTC), False),  # a Z instant
    ]
    for i, task in enumerate(made["one_offs"]):
        key = hashed_key(SALT, "task", task["id"])
        assert key != task["id"] and len(key) == 64
        row = by_key[key]
        assert (row.due_at, row.due_all_day) == expected_due[i % 3]
        assert row.priority == task["priority"] and not row.recurring
        assert row.project_key == hashed_key(SALT, "project", made["work"])
        assert row.completed_at.replace(microsecond=0) == datetime.fromisoformat(
            task["completed_at"]
        ).replace(microsecond=0)


async def test_no_task_text_or_provider_id_reaches_the_database(
    sessions: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    fake: FakeTodoist,
    database_url: str,
) -> None:
    user_id = await new_user(sessions)
    made = seed(fake.account(token=TOKEN, timezone="Europe/Berlin", joined_at=JOINED))
    await ActivityEnvironment().run(
        sync(sessions, http, fake).sync_todoist_history, SyncHistoryInput(user_id=user_id)
    )
    raw_ids = [t["id"] for t in made["one_offs"]] + [made["habit"]["id"], made["work"]]
    secrets_ = ["Canary-7d1f", "Zoidberg", TOKEN, *raw_ids]
    dump = await dump_tables(sessions)
    habit_key = hashed_key(SALT, "task", made["habit"]["id"])
    assert habit_key in dump  # the scan sees what was stored
    for secret in secrets_:
        assert secret not in dump
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        files = [Path(url.database + suffix) for suffix in ("", "-wal", "-journal")]
        raw = b"".join(f.read_bytes() for f in files if f.exists())
        assert habit_key.encode() in raw
        for secret in secrets_:
            assert secret.encode() not in raw


async def dump_tables(sessions: async_sessionmaker[AsyncSession]) -> str:
    """Every row of every table, as text (works on SQLite and PostgreSQL)."""
    parts = []
    async with sessions() as db:
        for table in Base.metadata.sorted_tables:
            result = await db.execute(text(f"SELECT * FROM {table.name}"))  # noqa: S608
            parts.append(f"{table.name}: {[tuple(r) for r in result]}")
    return "\n".join(parts)


async def test_the_cursor_is_stored_and_a_resumed_sync_reads_only_recent_windows(
    sessions: async_sessionmaker[AsyncSession], http: httpx.AsyncClient, fake: FakeTodoist
) -> None:
    user_id = await new_user(sessions)
    acct = fake.account(token=TOKEN, timezone="Europe/Berlin", joined_at=JOINED)
    made = seed(acct)
    activities = sync(sessions, http, fake)
    env = ActivityEnvironment()
    await env.run(activities.sync_todoist_history, SyncHistoryInput(user_id=user_id))
    async with sessions() as db:
        row = await db.scalar(select(Integration).where(Integration.user_id == user_id))
    assert row is not None and row.status == "active" and row.provider == TODOIST
    assert row.sync_cursor is not None
    assert datetime.fromisoformat(row.sync_cursor["last_completed_at"]) == max(made["habit_times"])

    fake.reset()
    late = acct.complete("late", at=NOW - timedelta(hours=1))
    result = await env.run(activities.sync_todoist_history, SyncHistoryInput(user_id=user_id))
    calls = fake.calls_to("/api/v1/tasks/completed/by_completion_date")
    assert len(calls) == 1
    since = datetime.fromisoformat(calls[0].query["since"])
    assert NOW - timedelta(days=3) < since < NOW
    assert result.new_completions == 1
    assert result.cursor == datetime.fromisoformat(late["completed_at"])


async def test_without_a_token_the_sync_fails_for_good(
    sessions: async_sessionmaker[AsyncSession], http: httpx.AsyncClient, fake: FakeTodoist
) -> None:
    async def no_token(user_id: uuid.UUID, provider: str) -> str | None:
        return None

    user_id = await new_user(sessions)
    activities = SyncActivities(
        sessions, http, todoist_api_base=fake.api_base, tokens=no_token, key_salt=SALT
    )
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(
            activities.sync_todoist_history, SyncHistoryInput(user_id=user_id)
        )
    assert caught.value.type == INTEGRATION_NOT_CONNECTED and caught.value.non_retryable
    assert fake.calls == []


async def test_a_revoked_token_is_not_retried_and_stores_nothing(
    sessions: async_sessionmaker[AsyncSession], http: httpx.AsyncClient, fake: FakeTodoist
) -> None:
    user_id = await new_user(sessions)
    seed(fake.account(token=TOKEN, joined_at=JOINED))
    fake.fail_with(401, path="/api/v1/tasks/completed", times=None)
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(
            sync(sessions, http, fake).sync_todoist_history, SyncHistoryInput(user_id=user_id)
        )
    assert caught.value.type == PROVIDER_UNAUTHORIZED and caught.value.non_retryable
    assert TOKEN not in str(caught.value)
    assert await rows(sessions, user_id) == []
