"""Users, their login identities, consents and preferences."""

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.profile import PreferenceRead
from store.db import insert_for
from store.models import Consent, Identity, User, UserPreference, utcnow

# The admin principal (POST /api/auth/token) is a users row with this status: it owns admin
# sessions, is never an active user (no tips, no sweeps) and has no identity.
ADMIN_STATUS = "admin"
_EMAIL_MAX = 320


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
    """People, that is: the admin principal is not counted."""
    stmt = select(func.count()).select_from(User).where(User.status != ADMIN_STATUS)
    return int(await db.scalar(stmt) or 0)


def _known_zone(name: object) -> str:
    """An IANA zone the provider asserted (cold start only), else UTC."""
    if not isinstance(name, str) or not name or len(name) > 64:
        return "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return name


async def _identity_user_id(db: AsyncSession, *, issuer: str, subject: str) -> uuid.UUID | None:
    stmt = select(Identity.user_id).where(Identity.issuer == issuer, Identity.subject == subject)
    return (await db.execute(stmt)).scalar_one_or_none()


async def sign_in_identity(
    db: AsyncSession,
    *,
    issuer: str,
    subject: str,
    email: str | None,
    display_name: str | None = None,
    tz: str | None = None,
) -> User:
    """The user of the login identity (issuer, subject), created on its first sign-in.

    The email is stored for display only and never matched: another account with the same
    email is another identity, hence another user. Safe when two first sign-ins race.
    """
    email = email[:_EMAIL_MAX] if email else None
    user_id = await _identity_user_id(db, issuer=issuer, subject=subject)
    if user_id is None:
        name = display_name[:200] if display_name else None
        user = User(display_name=name, tz=_known_zone(tz))
        db.add(user)
        await db.flush()
        values = {
            "id": uuid.uuid4(),
            "user_id": user.id,
            "issuer": issuer,
            "subject": subject,
            "email": email,
            "created_at": utcnow(),
        }
        stmt = insert_for(db)(Identity).values(**values)
        stmt = stmt.on_conflict_do_nothing(index_elements=["issuer", "subject"])
        inserted = cast(CursorResult[Any], await db.execute(stmt)).rowcount > 0
        if inserted:
            return user
        # A concurrent first sign-in won: drop our user and use theirs.
        await db.execute(delete(User).where(User.id == user.id))
        db.expunge(user)
        user_id = await _identity_user_id(db, issuer=issuer, subject=subject)
        assert user_id is not None
    else:
        await db.execute(
            update(Identity)
            .where(Identity.issuer == issuer, Identity.subject == subject)
            .values(email=email)
        )
    found = await db.get(User, user_id)
    assert found is not None  # identities cascade with their user
    return found


async def identities_of(db: AsyncSession, *, user_id: uuid.UUID) -> list[Identity]:
    stmt = select(Identity).where(Identity.user_id == user_id).order_by(Identity.created_at)
    return list((await db.scalars(stmt)).all())


async def admin_principal(db: AsyncSession) -> User:
    """The one admin principal, created on first use."""
    stmt = select(User).where(User.status == ADMIN_STATUS).order_by(User.created_at).limit(1)
    found = (await db.scalars(stmt)).first()
    if found is not None:
        return found
    admin = User(display_name="admin", status=ADMIN_STATUS)
    db.add(admin)
    await db.flush()
    return admin


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


async def set_user_preferences(
    db: AsyncSession, *, user_id: uuid.UUID, scope: str, values: Mapping[str, Any]
) -> None:
    """The person's own values (source 'user'); None drops their value of that key, which
    lets the agent's inference be written there again."""
    dropped = [key for key, value in values.items() if value is None]
    if dropped:
        await db.execute(
            delete(UserPreference).where(
                UserPreference.user_id == user_id,
                UserPreference.scope == scope,
                UserPreference.key.in_(dropped),
                UserPreference.source == "user",
            )
        )
    rows = [
        {"user_id": user_id, "scope": scope, "key": key, "value": value, "source": "user"}
        for key, value in values.items()
        if value is not None
    ]
    if rows:
        insert = insert_for(db)
        stmt = insert(UserPreference).values([row | {"updated_at": utcnow()} for row in rows])
        stmt = stmt.on_conflict_do_update(
            index_elements=["user_id", "scope", "key"],
            set_={
                "value": stmt.excluded.value,
                "source": stmt.excluded.source,
                "updated_at": stmt.excluded.updated_at,
            },
        )
        await db.execute(stmt)


async def scope_preferences(
    db: AsyncSession, *, user_id: uuid.UUID, scope: str
) -> dict[str, PreferenceRead]:
    """The preferences of a scope with where each value came from."""
    rows = await _scope_rows(db, user_id=user_id, scope=scope)
    return {p.key: PreferenceRead(value=p.value, source=p.source) for p in rows}


async def set_consent(db: AsyncSession, *, user_id: uuid.UUID, name: str, granted: bool) -> None:
    """Record a consent decision (upsert by user and consent name)."""
    row = await db.get(Consent, (user_id, name))
    if row is None:
        db.add(Consent(user_id=user_id, name=name, granted=granted))
    else:
        row.granted = granted
    await db.flush()
