"""Integration tokens at rest (RELIABILITY_SECURITY C1-C6) on SQLite and PostgreSQL."""

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.crypto import KeyRing, new_key_spec
from core.vault import DataKey, TokenDecryptError, TokenVault, UnknownMasterKeyError
from store import integrations, users
from store.models import Integration, UserKey
from tests.factories import raw_database_bytes

Sessions = async_sessionmaker[AsyncSession]
ACCESS = "canary-access-7f3a9c"
REFRESH = "canary-refresh-1b2d4e"
SCOPE = "canary-scope.readonly"
EXPIRES = datetime(2030, 1, 1, tzinfo=UTC)


def make_vault(spec: str | None = None) -> TokenVault:
    return TokenVault(KeyRing.parse(spec or new_key_spec("m1")))


async def new_user(sessions: Sessions) -> uuid.UUID:
    async with sessions.begin() as db:
        return (await users.create_user(db, display_name=None)).id


async def save(
    sessions: Sessions,
    vault: TokenVault,
    user_id: uuid.UUID,
    *,
    provider: str = "google",
    access: str = ACCESS,
    refresh: str | None = REFRESH,
) -> None:
    async with sessions.begin() as db:
        await integrations.save_tokens(
            db,
            user_id=user_id,
            provider=provider,
            vault=vault,
            access_token=access,
            refresh_token=refresh,
            expires_at=EXPIRES,
            scopes=["openid", SCOPE],
        )


async def load(
    sessions: Sessions, vault: TokenVault, user_id: uuid.UUID, provider: str = "google"
) -> integrations.Tokens | None:
    async with sessions() as db:
        return await integrations.load_tokens(db, user_id=user_id, provider=provider, vault=vault)


async def row(sessions: Sessions, user_id: uuid.UUID, provider: str = "google") -> Integration:
    async with sessions() as db:
        stmt = select(Integration).where(
            Integration.user_id == user_id, Integration.provider == provider
        )
        return (await db.scalars(stmt)).one()


async def write_ciphertexts(
    sessions: Sessions, user_id: uuid.UUID, provider: str, *, access: bytes, refresh: bytes
) -> None:
    """What an attacker with write access to the table (or a restored backup) can do."""
    async with sessions.begin() as db:
        await db.execute(
            update(Integration)
            .where(Integration.user_id == user_id, Integration.provider == provider)
            .values(access_token_enc=access, refresh_token_enc=refresh)
        )


async def master_key_ids(sessions: Sessions) -> dict[uuid.UUID, str]:
    async with sessions() as db:
        rows = (await db.execute(select(UserKey.user_id, UserKey.key_id))).all()
    return {user_id: key_id for user_id, key_id in rows}


async def test_tokens_round_trip_and_only_fresh_tokens_are_replaced(sessions: Sessions) -> None:
    vault, user = make_vault(), await new_user(sessions)
    assert await load(sessions, vault, user) is None
    await save(sessions, vault, user)
    tokens = await load(sessions, vault, user)
    assert tokens is not None and tokens.refresh_token is not None
    assert (tokens.access_token.get_secret_value(), tokens.refresh_token.get_secret_value()) == (
        ACCESS,
        REFRESH,
    )
    assert (tokens.expires_at, tokens.status, tokens.scopes) == (
        EXPIRES,
        "active",
        (SCOPE, "openid"),
    )
    # Google's refresh response carries no refresh token: the stored one must survive.
    await save(sessions, vault, user, access="second-access", refresh=None)
    tokens = await load(sessions, vault, user)
    assert tokens is not None and tokens.refresh_token is not None
    assert tokens.access_token.get_secret_value() == "second-access"
    assert tokens.refresh_token.get_secret_value() == REFRESH
    await save(sessions, vault, user, refresh="rotated-refresh")
    tokens = await load(sessions, vault, user)
    assert tokens is not None and tokens.refresh_token is not None
    assert tokens.refresh_token.get_secret_value() == "rotated-refresh"


async def test_status_and_deletion(sessions: Sessions) -> None:
    vault, user = make_vault(), await new_user(sessions)
    await save(sessions, vault, user)
    async with sessions.begin() as db:
        assert await integrations.set_status(
            db, user_id=user, provider="google", status="reconnect_required"
        )
        assert not await integrations.set_status(
            db, user_id=user, provider="todoist", status="revoked"
        )
        with pytest.raises(ValueError, match="status"):
            await integrations.set_status(db, user_id=user, provider="google", status="x")  # type: ignore[arg-type]
    tokens = await load(sessions, vault, user)
    assert tokens is not None and tokens.status == "reconnect_required"
    await save(sessions, vault, user)  # reconnecting stores fresh tokens
    tokens = await load(sessions, vault, user)
    assert tokens is not None and tokens.status == "active"
    async with sessions.begin() as db:
        assert await integrations.delete_integration(db, user_id=user, provider="google")
        assert not await integrations.delete_integration(db, user_id=user, provider="google")
    assert await load(sessions, vault, user) is None


async def test_c1_no_token_is_in_the_raw_database_bytes(
    sessions: Sessions, database_url: str
) -> None:
    vault, user = make_vault(), await new_user(sessions)
    await save(sessions, vault, user)
    for raw in await raw_database_bytes(sessions, database_url):
        # The scope is stored in the clear: it proves these bytes hold the saved row.
        assert SCOPE.encode() in raw
        assert ACCESS.encode() not in raw
        assert REFRESH.encode() not in raw


async def test_c2_a_ciphertext_copied_to_another_row_fails(sessions: Sessions) -> None:
    vault = make_vault()
    alice, bob = await new_user(sessions), await new_user(sessions)
    await save(sessions, vault, alice)
    await save(sessions, vault, alice, provider="todoist", access="todoist-access")
    await save(sessions, vault, bob, access="bob-access", refresh="bob-refresh")
    a = await row(sessions, alice)
    assert a.access_token_enc is not None and a.refresh_token_enc is not None
    # Alice's ciphertexts in Bob's row, in another provider's row, and with kinds swapped.
    attacks = [
        (bob, "google", a.access_token_enc, a.refresh_token_enc),
        (alice, "todoist", a.access_token_enc, a.refresh_token_enc),
        (alice, "google", a.refresh_token_enc, a.access_token_enc),
    ]
    for user, provider, access, refresh in attacks:
        await write_ciphertexts(sessions, user, provider, access=access, refresh=refresh)
        with pytest.raises(TokenDecryptError):
            await load(sessions, vault, user, provider)


async def test_c2_each_save_uses_a_fresh_nonce_and_names_its_data_key(sessions: Sessions) -> None:
    vault, user = make_vault(), await new_user(sessions)
    await save(sessions, vault, user)
    first = (await row(sessions, user)).access_token_enc
    await save(sessions, vault, user)
    second = (await row(sessions, user)).access_token_enc
    assert first is not None and second is not None
    assert first != second and first[9:21] != second[9:21]
    async with sessions() as db:
        key = await integrations.ensure_user_key(db, user_id=user, vault=vault)
    assert first[1:9] == second[1:9] == key.key_id
    assert (await master_key_ids(sessions))[user] == "m1"


async def test_c3_a_tampered_or_truncated_row_raises_the_declared_error(
    sessions: Sessions,
) -> None:
    vault, user = make_vault(), await new_user(sessions)
    await save(sessions, vault, user)
    good = await row(sessions, user)
    assert good.access_token_enc is not None and good.refresh_token_enc is not None
    access = good.access_token_enc
    for bad in (access[:-1] + bytes([access[-1] ^ 0x80]), access[:20], b""):
        await write_ciphertexts(
            sessions, user, "google", access=bad, refresh=good.refresh_token_enc
        )
        with pytest.raises(TokenDecryptError):
            await load(sessions, vault, user)


async def test_c4_rotation_is_resumable_idempotent_and_reads_never_stop(
    sessions: Sessions,
) -> None:
    old_spec, new_spec = new_key_spec("old"), new_key_spec("new")
    old = make_vault(old_spec)
    people = [await new_user(sessions) for _ in range(5)]
    for i, user in enumerate(people):
        await save(sessions, old, user, access=f"access-{i}")
    envelopes = {u: (await row(sessions, u)).access_token_enc for u in people}
    rotated = make_vault(f"{new_spec},{old_spec}")

    async def all_readable(vault: TokenVault) -> None:
        for i, user in enumerate(people):
            tokens = await load(sessions, vault, user)
            assert tokens is not None and tokens.access_token.get_secret_value() == f"access-{i}"

    await all_readable(rotated)

    def crash_after_first_batch(done: int, total: int) -> None:
        raise RuntimeError(f"killed at {done}/{total}")

    with pytest.raises(RuntimeError, match="killed at 2/5"):
        await integrations.rotate_master_key(
            sessions, vault=rotated, batch_size=2, on_progress=crash_after_first_batch
        )
    assert sorted((await master_key_ids(sessions)).values()) == ["new", "new", "old", "old", "old"]
    await all_readable(rotated)  # half-way: both master keys in use

    progress: list[tuple[int, int]] = []
    report = await integrations.rotate_master_key(
        sessions, vault=rotated, batch_size=2, on_progress=lambda *p: progress.append(p)
    )
    assert (report.master_key_id, report.rewrapped, report.batches) == ("new", 3, 2)
    assert progress == [(2, 3), (3, 3)]
    assert set((await master_key_ids(sessions)).values()) == {"new"}
    await all_readable(make_vault(new_spec))  # the old master key is no longer needed
    # Tokens are under the data keys, which did not change: no token was re-encrypted.
    assert {u: (await row(sessions, u)).access_token_enc for u in people} == envelopes

    async with sessions() as db:
        before = (await db.execute(select(UserKey.user_id, UserKey.wrapped_key))).all()
    again = await integrations.rotate_master_key(sessions, vault=rotated)
    assert (again.rewrapped, again.batches) == (0, 0)
    async with sessions() as db:
        assert (await db.execute(select(UserKey.user_id, UserKey.wrapped_key))).all() == before
    with pytest.raises(UnknownMasterKeyError):
        await load(sessions, old, people[0])  # a process left on the old ring fails clearly


async def test_c5_destroying_the_data_key_makes_every_copy_unreadable(
    sessions: Sessions,
) -> None:
    spec = new_key_spec("m1")
    vault, user = make_vault(spec), await new_user(sessions)
    await save(sessions, vault, user)
    backup = await row(sessions, user)  # a copy of the encrypted bytes, as in a backup
    assert backup.access_token_enc is not None and backup.refresh_token_enc is not None
    async with sessions.begin() as db:
        assert await integrations.destroy_user_key(db, user_id=user)
    with pytest.raises(TokenDecryptError, match="data key"):
        await load(sessions, vault, user)
    # The user reconnects (a new data key), and the old ciphertexts are restored from the backup.
    async with sessions.begin() as db:
        await integrations.ensure_user_key(db, user_id=user, vault=vault)
    await write_ciphertexts(
        sessions,
        user,
        "google",
        access=backup.access_token_enc,
        refresh=backup.refresh_token_enc,
    )
    with pytest.raises(TokenDecryptError):
        await load(sessions, vault, user)
    # Nor does the master key itself open them: the tokens were never under it.
    master = KeyRing.parse(spec).keys["m1"]
    stale_id = backup.access_token_enc[1:9]
    with pytest.raises(TokenDecryptError):
        vault.open(
            DataKey(user, stale_id, master),
            provider="google",
            kind="access",
            envelope=backup.access_token_enc,
        )


async def test_concurrent_first_uses_agree_on_one_data_key(sessions: Sessions) -> None:
    vault, user = make_vault(), await new_user(sessions)

    async def first_use() -> DataKey:
        async with sessions.begin() as db:
            return await integrations.ensure_user_key(db, user_id=user, vault=vault)

    a, b = await asyncio.gather(first_use(), first_use())
    assert a == b


async def test_c6_tokens_never_show_in_reprs_or_logs(
    sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    old_spec = new_key_spec("old")
    vault, user = make_vault(old_spec), await new_user(sessions)
    await save(sessions, vault, user)
    tokens = await load(sessions, vault, user)
    await integrations.rotate_master_key(sessions, vault=make_vault(f"{new_key_spec()},{old_spec}"))
    assert tokens is not None
    shown = repr(tokens) + str(tokens) + tokens.model_dump_json() + caplog.text
    assert ACCESS not in shown and REFRESH not in shown
    assert "re-wrapped 1/1 data keys" in caplog.text  # the logs were captured


async def test_expiry_is_stored_as_an_aware_instant(sessions: Sessions) -> None:
    vault, user = make_vault(), await new_user(sessions)
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    async with sessions.begin() as db:
        await integrations.save_tokens(
            db,
            user_id=user,
            provider="todoist",
            vault=vault,
            access_token="t",
            refresh_token=None,
            expires_at=soon,
            scopes="data:read  data:read",
        )
    tokens = await load(sessions, vault, user, "todoist")
    assert tokens is not None
    assert (tokens.expires_at, tokens.refresh_token, tokens.scopes) == (soon, None, ("data:read",))
