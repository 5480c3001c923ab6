"""Revoking a consent erases what was derived under it, for that user only."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store import consents, users
from store.models import AgentOutput, Integration, TaskCompletion, UserPreference

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
TODOIST_AGENTS = ("momentum", "time-of-day")


async def a_user_with_history(db: AsyncSession) -> uuid.UUID:
    user = await users.create_user(db, display_name=None, consents=("todoist.read",))
    for i, source in enumerate(("todoist", "todoist", "demo")):
        db.add(
            TaskCompletion(
                user_id=user.id, source=source, task_key=f"k{i}", completed_at=NOW - timedelta(i)
            )
        )
    for agent_id in (*TODOIST_AGENTS, "calendar-agent"):
        db.add(
            AgentOutput(
                user_id=user.id,
                agent_id=agent_id,
                agent_version="1.0.0",
                snippet={"text": "x"},
                salience=0.5,
                computed_at=NOW,
                expires_at=NOW + timedelta(hours=1),
            )
        )
    db.add_all(
        [
            UserPreference(
                user_id=user.id, scope="momentum", key="trend", value="up", source="inferred"
            ),
            UserPreference(
                user_id=user.id, scope="time-of-day", key="quiet_start", value=22, source="user"
            ),
            UserPreference(
                user_id=user.id, scope="global", key="tz_hint", value="x", source="inferred"
            ),
        ]
    )
    db.add(Integration(user_id=user.id, provider="todoist", status="active", sync_cursor={"a": 1}))
    await db.flush()
    return user.id


async def counts(db: AsyncSession, user_id: uuid.UUID) -> dict[str, object]:
    async def n(model: Any, *where: Any) -> int:
        stmt = select(func.count()).select_from(model).where(model.user_id == user_id, *where)
        return int(await db.scalar(stmt) or 0)

    return {
        "todoist": await n(TaskCompletion, TaskCompletion.source == "todoist"),
        "demo": await n(TaskCompletion, TaskCompletion.source == "demo"),
        "outputs": sorted(
            await db.scalars(select(AgentOutput.agent_id).where(AgentOutput.user_id == user_id))
        ),
        "prefs": sorted(
            (
                await db.execute(
                    select(UserPreference.scope, UserPreference.key, UserPreference.source).where(
                        UserPreference.user_id == user_id
                    )
                )
            ).all()
        ),
        "cursor": await db.scalar(
            select(Integration.sync_cursor).where(Integration.user_id == user_id)
        ),
    }


async def test_revoking_todoist_erases_its_derived_data_and_keeps_the_users_own(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as db:
        user_id = await a_user_with_history(db)
        other = await a_user_with_history(db)
        before_other = await counts(db, other)
    async with sessions.begin() as db:
        erased = await consents.set_consents(
            db,
            user_id=user_id,
            decisions={"todoist.read": False},
            agents_by_consent={"todoist.read": TODOIST_AGENTS},
        )
    assert erased["todoist.read"] == consents.Erased(
        task_completions=2, agent_outputs=2, preferences=1
    )
    async with sessions() as db:
        assert await counts(db, user_id) == {
            "todoist": 0,
            "demo": 1,  # seeded synthetic history, not from a provider
            "outputs": ["calendar-agent"],
            "prefs": [("global", "tz_hint", "inferred"), ("time-of-day", "quiet_start", "user")],
            "cursor": None,  # a new grant syncs the whole history again
        }
        assert await counts(db, other) == before_other  # nobody else's data moves
        assert await consents.consents_of(db, user_id=user_id) == {"todoist.read": False}
        assert await users.granted_consents(db, user_id=user_id) == set()


async def test_granting_records_the_decision_and_erases_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as db:
        user_id = await a_user_with_history(db)
        before = await counts(db, user_id)
    async with sessions.begin() as db:
        erased = await consents.set_consents(
            db,
            user_id=user_id,
            decisions={"todoist.read": True, "calendar.read": True},
            agents_by_consent={"todoist.read": TODOIST_AGENTS},
        )
    assert erased == {}
    async with sessions() as db:
        assert await counts(db, user_id) == before
        assert await consents.consents_of(db, user_id=user_id) == {
            "todoist.read": True,
            "calendar.read": True,
        }
