"""Server-side sessions and one-time login tokens; only hashes of secrets are stored."""

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import LoginToken, Session, User


def hash_secret(value: str) -> str:
    """SHA-256 of a high-entropy random secret (no salt needed at 256 bits of entropy)."""
    return hashlib.sha256(value.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


async def create_login_token(
    db: AsyncSession, *, user_id: uuid.UUID, now: datetime, ttl: timedelta
) -> str:
    """A one-time login token for a user; the clear value is returned once."""
    token = new_secret()
    db.add(LoginToken(token_hash=hash_secret(token), user_id=user_id, expires_at=now + ttl))
    await db.flush()
    return token


async def redeem_login_token(db: AsyncSession, *, token: str, now: datetime) -> uuid.UUID | None:
    """The token's user if it is unused and unexpired; it can never be used again."""
    stmt = (
        update(LoginToken)
        .where(
            LoginToken.token_hash == hash_secret(token),
            LoginToken.used_at.is_(None),
            LoginToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(LoginToken.user_id)
    )
    return (await db.execute(stmt)).scalar_one_or_none()


async def create_session(
    db: AsyncSession, *, user_id: uuid.UUID, now: datetime, absolute: timedelta
) -> str:
    """A new session id (returned once, stored hashed)."""
    sid = new_secret()
    db.add(
        Session(
            token_hash=hash_secret(sid),
            user_id=user_id,
            created_at=now,
            authenticated_at=now,
            last_seen_at=now,
            expires_at=now + absolute,
        )
    )
    await db.flush()
    return sid


# Reads touch a session's idle clock at most this often, so that they do not write each time.
TOUCH_EVERY = timedelta(minutes=1)


class SessionClock(Protocol):
    """What expiry is judged on: a sessions row, or the same three stamps read elsewhere."""

    @property
    def created_at(self) -> datetime: ...
    @property
    def last_seen_at(self) -> datetime: ...
    @property
    def expires_at(self) -> datetime: ...


def session_expired(
    row: SessionClock, *, now: datetime, idle: timedelta, absolute: timedelta | None
) -> bool:
    if row.expires_at <= now or row.last_seen_at + idle <= now:
        return True
    # The absolute limit in force now, even for a session created under a longer one.
    return absolute is not None and row.created_at + absolute <= now


async def live_session(
    db: AsyncSession,
    *,
    sid: str,
    now: datetime,
    idle: timedelta,
    absolute: timedelta | None = None,
) -> Session | None:
    """The session named by sid if neither its idle nor its absolute timeout has passed.

    An expired session is deleted; a live one has its idle clock touched.
    """
    row = await db.get(Session, hash_secret(sid))
    if row is None:
        return None
    if session_expired(row, now=now, idle=idle, absolute=absolute):
        await db.delete(row)
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
    return row


async def principal_for_session(
    db: AsyncSession,
    *,
    sid: str,
    now: datetime,
    idle: timedelta,
    absolute: timedelta | None = None,
) -> User | None:
    """The users row behind a live session, whatever its status (a user or the admin)."""
    row = await live_session(db, sid=sid, now=now, idle=idle, absolute=absolute)
    return None if row is None else await db.get(User, row.user_id)


async def user_for_session(
    db: AsyncSession,
    *,
    sid: str,
    now: datetime,
    idle: timedelta,
    absolute: timedelta | None = None,
) -> User | None:
    """The active user of a live session; touches its idle clock; ends it when expired."""
    user = await principal_for_session(db, sid=sid, now=now, idle=idle, absolute=absolute)
    if user is None or user.status != "active":
        return None
    return user


async def end_session(db: AsyncSession, *, sid: str) -> None:
    await db.execute(delete(Session).where(Session.token_hash == hash_secret(sid)))


async def session_exists(db: AsyncSession, *, sid: str) -> bool:
    stmt = select(Session.token_hash).where(Session.token_hash == hash_secret(sid))
    return (await db.scalar(stmt)) is not None
