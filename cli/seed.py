"""Seed the demo user from a synthetic persona."""

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from sim.personas import make_persona
from store import history, users

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
