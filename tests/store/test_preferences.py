from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store import users
from store.models import UserPreference


async def test_inferred_values_never_overwrite_what_the_user_set(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as db:
        user = await users.create_user(db, display_name=None)
        db.add(
            UserPreference(
                user_id=user.id, scope="time-of-day", key="quiet_start", value=22, source="user"
            )
        )
        effective = await users.write_inferred(
            db,
            user_id=user.id,
            scope="time-of-day",
            values={"quiet_start": 1, "preferred_hour": 10, "peak_hours": [9, 10]},
        )
    assert effective == {"quiet_start": 22, "preferred_hour": 10, "peak_hours": [9, 10]}
    async with sessions.begin() as db:
        # A later inference updates its own keys and still leaves the user's alone.
        again = await users.write_inferred(
            db,
            user_id=user.id,
            scope="time-of-day",
            values={"quiet_start": 2, "preferred_hour": 11},
        )
        rows = {
            (p.key, p.source)
            for p in (await users._scope_rows(db, user_id=user.id, scope="time-of-day"))
        }
    assert again["quiet_start"] == 22 and again["preferred_hour"] == 11
    assert ("quiet_start", "user") in rows and ("preferred_hour", "inferred") in rows
