"""Users, consents and preferences."""

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Consent, User, UserPreference


async def create_user(
    db: AsyncSession,
    *,
    display_name: str | None,
    tz: str = "UTC",
    is_demo: bool = False,
    consents: tuple[str, ...] = (),
) -> User:
    """A new active user with the given consents granted."""
    user = User(display_name=display_name, tz=tz, is_demo=is_demo)
    db.add(user)
    await db.flush()
    db.add_all(Consent(user_id=user.id, name=name, granted=True) for name in consents)
    await db.flush()
    return user


async def get_user(db: AsyncSession, *, user_id: uuid.UUID) -> User | None:
    return await db.get(User, user_id)


async def count_users(db: AsyncSession) -> int:
    return int(await db.scalar(select(func.count()).select_from(User)) or 0)


async def first_demo_user(db: AsyncSession) -> User | None:
    stmt = select(User).where(User.is_demo.is_(True)).order_by(User.created_at).limit(1)
    return (await db.scalars(stmt)).first()


async def granted_consents(db: AsyncSession, *, user_id: uuid.UUID) -> set[str]:
    stmt = select(Consent.name).where(Consent.user_id == user_id, Consent.granted.is_(True))
    return set((await db.scalars(stmt)).all())


async def preferences(db: AsyncSession, *, user_id: uuid.UUID, scope: str) -> dict[str, Any]:
    """Preferences of one scope (an agent id or 'global') as a plain mapping."""
    return {p.key: p.value for p in await _scope_rows(db, user_id=user_id, scope=scope)}


async def _scope_rows(
    db: AsyncSession, *, user_id: uuid.UUID, scope: str
) -> Sequence[UserPreference]:
    stmt = select(UserPreference).where(
        UserPreference.user_id == user_id, UserPreference.scope == scope
    )
    return (await db.scalars(stmt)).all()


async def write_inferred(
    db: AsyncSession, *, user_id: uuid.UUID, scope: str, values: Mapping[str, Any]
) -> dict[str, Any]:
    """Store inferred values (source 'inferred'); a key the user set is never overwritten.

    Returns the effective preferences of the scope: the user's own values win.
    """
    rows = {p.key: p for p in await _scope_rows(db, user_id=user_id, scope=scope)}
    for key, value in values.items():
        row = rows.get(key)
        if row is None:
            row = UserPreference(user_id=user_id, scope=scope, key=key, source="inferred")
            db.add(row)
            rows[key] = row
        if row.source != "user":
            row.value = value
            row.source = "inferred"
    await db.flush()
    return {key: row.value for key, row in rows.items()}


async def active_users(db: AsyncSession, *, user_ids: Sequence[uuid.UUID]) -> list[User]:
    """The given users that are active (a user being deleted is skipped)."""
    stmt = select(User).where(User.id.in_(user_ids), User.status == "active").order_by(User.id)
    return list((await db.scalars(stmt)).all())


async def user_set_preferences(
    db: AsyncSession, *, user_id: uuid.UUID, scope: str
) -> dict[str, Any]:
    """The preferences of a scope that the user set themselves."""
    rows = await _scope_rows(db, user_id=user_id, scope=scope)
    return {p.key: p.value for p in rows if p.source == "user"}
