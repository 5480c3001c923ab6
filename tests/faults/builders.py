"""Builders of the fault suite: a user whose Todoist history a recompute syncs."""

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities import ActivityDeps
from agents import all_agents
from store import users
from tests.factories import TEST_VAULT, store_tokens
from tests.fakes.todoist import FakeTodoist

# Three pages of completed items (200 a page), all in one window of the completed endpoint.
COMPLETIONS = 450
COMPLETED_PATH = "/tasks/completed/by_completion_date"


async def todoist_user(
    sessions: async_sessionmaker[AsyncSession], todoist: FakeTodoist, *, token: str
) -> uuid.UUID:
    """A consenting user with Todoist connected, who completed COMPLETIONS one-off tasks."""
    now = datetime.now(UTC)
    account = todoist.account(token=token, joined_at=now - timedelta(days=30))
    for n in range(COMPLETIONS):
        account.complete(f"task {n}", at=now - timedelta(hours=1, minutes=40 * n))
    async with sessions.begin() as db:
        user = await users.create_user(db, display_name=None, consents=("todoist.read",))
    await store_tokens(sessions, user_id=user.id, provider="todoist", access=token)
    return user.id


def sync_deps(
    sessions: async_sessionmaker[AsyncSession],
    todoist: FakeTodoist,
    *,
    http: httpx.AsyncClient | None = None,
) -> ActivityDeps:
    """Every agent, and the Todoist sync against the fake."""
    return ActivityDeps(
        sessions=sessions,
        agents=all_agents(),
        tip_ttl=timedelta(hours=1),
        http=http,
        vault=TEST_VAULT,
        todoist_api_base=todoist.api_base,
        hash_salt=b"fault-salt",
        sync_stale=timedelta(minutes=30),
    )
