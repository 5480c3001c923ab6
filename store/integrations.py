"""Provider integrations: tokens sealed under each user's data key, and master key rotation."""

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, cast, get_args

from pydantic import BaseModel, ConfigDict, SecretStr
from sqlalchemy import CursorResult, Executable, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.vault import DataKey, TokenDecryptError, TokenVault, WrappedKey
from store.db import insert_for
from store.models import Integration, User, UserKey, utcnow

logger = logging.getLogger(__name__)

IntegrationStatus = Literal["active", "reconnect_required", "revoked"]
STATUSES: tuple[str, ...] = get_args(IntegrationStatus)
_SCOPES_MAX = 500


class Tokens(BaseModel):
    """A user's tokens for one provider; the secrets are SecretStr and never print."""

    model_config = ConfigDict(frozen=True)

    provider: str
    access_token: SecretStr
    refresh_token: SecretStr | None
    expires_at: datetime | None
    status: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class RotationReport:
    """What `rotate_master_key` did: data keys re-wrapped under `master_key_id`."""

    master_key_id: str
    rewrapped: int
    batches: int


async def _changed(db: AsyncSession, stmt: Executable) -> bool:
    """Whether an UPDATE or DELETE touched a row."""
    result = cast(CursorResult[Any], await db.execute(stmt))
    return result.rowcount > 0


def _scopes_text(scopes: str | Sequence[str]) -> str:
    items = scopes.split() if isinstance(scopes, str) else list(scopes)
    text = " ".join(sorted(set(items)))
    if len(text) > _SCOPES_MAX:
        raise ValueError(f"scopes exceed {_SCOPES_MAX} characters")
    return text


async def _wrapped_key(db: AsyncSession, *, user_id: uuid.UUID) -> WrappedKey | None:
    # Columns, not ORM objects: a row deleted elsewhere in the session is never served stale.
    stmt = select(UserKey.key_id, UserKey.wrapped_key).where(UserKey.user_id == user_id)
    row = (await db.execute(stmt)).first()
    return None if row is None else WrappedKey(row.key_id, row.wrapped_key)


async def ensure_user_key(db: AsyncSession, *, user_id: uuid.UUID, vault: TokenVault) -> DataKey:
    """The user's data key, created and stored wrapped on first use (safe under concurrency)."""
    wrapped = await _wrapped_key(db, user_id=user_id)
    if wrapped is None:
        _, fresh = vault.new_data_key(user_id)
        values = {"user_id": user_id, "key_id": fresh.master_key_id, "wrapped_key": fresh.blob}
        stmt = insert_for(db)(UserKey).values(**values, created_at=utcnow())
        await db.execute(stmt.on_conflict_do_nothing(index_elements=["user_id"]))
        # A concurrent transaction may have won the insert: use whichever key is stored.
        wrapped = await _wrapped_key(db, user_id=user_id)
        assert wrapped is not None
    return vault.unwrap(user_id, wrapped)


async def _data_key(db: AsyncSession, *, user_id: uuid.UUID, vault: TokenVault) -> DataKey:
    wrapped = await _wrapped_key(db, user_id=user_id)
    if wrapped is None:
        raise TokenDecryptError("the user has no data key (destroyed): their tokens are unreadable")
    return vault.unwrap(user_id, wrapped)


async def save_tokens(
    db: AsyncSession,
    *,
    user_id: uuid.UUID,
    provider: str,
    vault: TokenVault,
    access_token: str,
    refresh_token: str | None,
    expires_at: datetime | None,
    scopes: str | Sequence[str] = (),
) -> None:
    """Store fresh tokens (status 'active'); a refresh_token of None keeps the stored one."""
    key = await ensure_user_key(db, user_id=user_id, vault=vault)
    access = vault.seal(key, provider=provider, kind="access", token=access_token)
    refresh = (
        None
        if refresh_token is None
        else vault.seal(key, provider=provider, kind="refresh", token=refresh_token)
    )
    now = utcnow()
    changes = {
        "access_token_enc": access,
        "expires_at": expires_at,
        "scopes": _scopes_text(scopes),
        "status": "active",
        "updated_at": now,
    }
    stmt = insert_for(db)(Integration).values(
        id=uuid.uuid4(),
        user_id=user_id,
        provider=provider,
        refresh_token_enc=refresh,
        created_at=now,
        **changes,
    )
    kept = func.coalesce(stmt.excluded.refresh_token_enc, Integration.refresh_token_enc)
    stmt = stmt.on_conflict_do_update(
        index_elements=["user_id", "provider"], set_={**changes, "refresh_token_enc": kept}
    )
    await db.execute(stmt)
    logger.debug("stored %s tokens for user %s", provider, user_id)


async def load_tokens(
    db: AsyncSession, *, user_id: uuid.UUID, provider: str, vault: TokenVault
) -> Tokens | None:
    """The user's tokens for the provider, or None when none are stored.

    Raises TokenDecryptError when a ciphertext was altered or the user's data key is gone.
    """
    stmt = select(
        Integration.access_token_enc,
        Integration.refresh_token_enc,
        Integration.expires_at,
        Integration.status,
        Integration.scopes,
    ).where(Integration.user_id == user_id, Integration.provider == provider)
    row = (await db.execute(stmt)).first()
    if row is None or row.access_token_enc is None:
        return None
    key = await _data_key(db, user_id=user_id, vault=vault)
    access = vault.open(key, provider=provider, kind="access", envelope=row.access_token_enc)
    refresh = (
        None
        if row.refresh_token_enc is None
        else vault.open(key, provider=provider, kind="refresh", envelope=row.refresh_token_enc)
    )
    return Tokens(
        provider=provider,
        access_token=SecretStr(access),
        refresh_token=None if refresh is None else SecretStr(refresh),
        expires_at=row.expires_at,
        status=row.status,
        scopes=tuple((row.scopes or "").split()),
    )


async def set_status(
    db: AsyncSession, *, user_id: uuid.UUID, provider: str, status: IntegrationStatus
) -> bool:
    """Mark the integration; False when the user has none for the provider."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
    stmt = (
        update(Integration)
        .where(Integration.user_id == user_id, Integration.provider == provider)
        .values(status=status, updated_at=utcnow())
    )
    return await _changed(db, stmt)


async def delete_integration(db: AsyncSession, *, user_id: uuid.UUID, provider: str) -> bool:
    """Forget the integration and its tokens; False when there was none."""
    stmt = delete(Integration).where(
        Integration.user_id == user_id, Integration.provider == provider
    )
    return await _changed(db, stmt)


async def destroy_user_key(db: AsyncSession, *, user_id: uuid.UUID) -> bool:
    """Delete the user's data key: every copy of their tokens becomes unreadable."""
    stmt = delete(UserKey).where(UserKey.user_id == user_id)
    destroyed = await _changed(db, stmt)
    if destroyed:
        logger.info("destroyed the data key of user %s", user_id)
    return destroyed


async def _rewrap_batch(db: AsyncSession, *, vault: TokenVault, limit: int) -> int:
    current = vault.current_master_key_id
    stmt = (
        select(UserKey.user_id, UserKey.key_id, UserKey.wrapped_key)
        .where(UserKey.key_id != current)
        .order_by(UserKey.user_id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL: concurrent rotations share the work
    )
    rows = (await db.execute(stmt)).all()
    for row in rows:
        fresh = vault.rewrap(row.user_id, WrappedKey(row.key_id, row.wrapped_key))
        await db.execute(
            update(UserKey)
            .where(UserKey.user_id == row.user_id, UserKey.key_id == row.key_id)
            .values(key_id=fresh.master_key_id, wrapped_key=fresh.blob)
        )
    return len(rows)


async def rotate_master_key(
    sessions: async_sessionmaker[AsyncSession],
    *,
    vault: TokenVault,
    batch_size: int = 100,
    on_progress: Callable[[int, int], None] | None = None,
) -> RotationReport:
    """Re-wrap every data key not under the current master key, one transaction per batch.

    Resumable and idempotent: a batch is committed before the next starts and only keys not yet
    under the current master key are selected. on_progress(done, total) follows each batch.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    current = vault.current_master_key_id
    async with sessions() as db:
        stale = select(func.count()).where(UserKey.key_id != current)
        total = int(await db.scalar(stale) or 0)
    done = batches = 0
    while True:
        async with sessions.begin() as db:
            n = await _rewrap_batch(db, vault=vault, limit=batch_size)
        if n == 0:
            break
        done, batches = done + n, batches + 1
        logger.info("re-wrapped %d/%d data keys under master key %s", done, total, current)
        if on_progress is not None:
            on_progress(done, max(total, done))
    return RotationReport(master_key_id=current, rewrapped=done, batches=batches)


async def stale_syncs(
    db: AsyncSession,
    *,
    user_ids: Sequence[uuid.UUID],
    provider: str,
    now: datetime,
    older_than: timedelta,
) -> list[uuid.UUID]:
    """Users with an active integration whose history was last synced before `now - older_than`."""
    stmt = select(Integration.user_id, Integration.sync_cursor).where(
        Integration.user_id.in_(user_ids),
        Integration.provider == provider,
        Integration.status == "active",
    )
    stale = []
    for user_id, cursor in await db.execute(stmt):
        synced = (cursor or {}).get("synced_until")
        if synced is None or datetime.fromisoformat(synced) < now - older_than:
            stale.append(user_id)
    return stale


async def statuses_of(db: AsyncSession, *, user_id: uuid.UUID) -> dict[str, str]:
    """Provider -> status of each integration the user has."""
    stmt = select(Integration.provider, Integration.status).where(Integration.user_id == user_id)
    return {provider: status for provider, status in await db.execute(stmt)}


async def active_providers(db: AsyncSession, *, user_id: uuid.UUID) -> list[str]:
    """The providers a user has an active integration with."""
    stmt = select(Integration.provider).where(
        Integration.user_id == user_id, Integration.status == "active"
    )
    return sorted((await db.scalars(stmt)).all())


async def kept_by_workflows(db: AsyncSession) -> list[tuple[uuid.UUID, str]]:
    """(user, provider) of every integration a token workflow keeps: active, or waiting for a
    reconnect, of a user who is active (not being deleted)."""
    stmt = (
        select(Integration.user_id, Integration.provider)
        .join(User, User.id == Integration.user_id)
        .where(
            Integration.status.in_(("active", "reconnect_required")),
            User.status == "active",
        )
        .order_by(Integration.user_id, Integration.provider)
    )
    return [(user_id, provider) for user_id, provider in await db.execute(stmt)]
