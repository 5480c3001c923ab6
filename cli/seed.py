"""Seed the demo user from a synthetic persona."""

import uuid
from datetime import UTC, datetime

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sim.personas import make_persona
from store import history, users
from store.models import Consent, TaskCompletion, User

DEMO_SEED = 7
DEMO_CONSENTS = ("todoist.read",)


async def seed_demo_user(db: AsyncSession, *, now: datetime | None = None) -> uuid.UUID:
    """A demo user with 60 days of synthetic task completions."""
    persona = make_persona(DEMO_SEED, end=now or datetime.now(UTC))
    user = await users.create_user(
        db, display_name="Demo", tz=persona.truth.tz, is_demo=True, consents=DEMO_CONSENTS
    )
    await history.add_completions(
        db, user_id=user.id, completions=persona.history.completions, source="demo"
    )
    return user.id


async def seed_users(
    sessions: async_sessionmaker[AsyncSession], *, count: int, days: int = 21, pool: int = 20
) -> list[uuid.UUID]:
    """Many consenting users quickly (tests, benchmarks): histories from a pool of personas."""
    end = datetime.now(UTC)
    personas = [make_persona(seed, days=days, end=end) for seed in range(pool)]
    ids = [uuid.uuid4() for _ in range(count)]
    rows = []
    for n, user_id in enumerate(ids):
        seen = set()
        for c in personas[n % pool].history.completions:
            if (c.task_key, c.completed_at) in seen or c.completed_at > end:
                continue
            seen.add((c.task_key, c.completed_at))
            rows.append({"user_id": user_id, "source": "demo", **c.model_dump(exclude={"content"})})
    async with sessions.begin() as db:
        await db.execute(
            insert(User),
            [
                {"id": i, "tz": personas[n % pool].truth.tz, "status": "active"}
                for n, i in enumerate(ids)
            ],
        )
        await db.execute(
            insert(Consent),
            [{"user_id": i, "name": c, "granted": True} for i in ids for c in DEMO_CONSENTS],
        )
        for start in range(0, len(rows), 5000):
            await db.execute(insert(TaskCompletion), rows[start : start + 5000])
    return ids
