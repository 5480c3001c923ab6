"""`oo keys new` and `oo keys rotate` as an operator runs them."""

import asyncio
from pathlib import Path
from types import SimpleNamespace

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner, Result

from cli.keys import app
from core.crypto import KeyRing, new_key_spec
from core.vault import TokenVault
from store import integrations, users
from store.models import UserKey

runner = CliRunner()


def use_settings(monkeypatch: pytest.MonkeyPatch, **fields: object) -> None:
    """Stand-in settings: the CLI must not depend on the real Settings having master_keys."""
    monkeypatch.setattr("core.settings.get_settings", lambda: SimpleNamespace(**fields))


async def invoke(*args: str) -> Result:
    # The command runs its own event loop: keep it off the test's loop.
    return await asyncio.to_thread(runner.invoke, app, list(args))


def test_new_prints_a_fresh_usable_key_entry() -> None:
    first = runner.invoke(app, ["new", "--kid", "m2"])
    second = runner.invoke(app, ["new"])
    assert first.exit_code == second.exit_code == 0
    ring = KeyRing.parse(first.output.strip())
    assert ring.current == "m2" and len(ring.keys["m2"]) == 32
    assert KeyRing.parse(second.output.strip()).keys != ring.keys


async def test_rotate_rewraps_every_data_key_and_a_rerun_changes_nothing(
    sessions: async_sessionmaker[AsyncSession],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old, new = new_key_spec("old"), new_key_spec("new")
    async with sessions.begin() as db:
        for _ in range(3):
            user = await users.create_user(db, display_name=None)
            vault = TokenVault(KeyRing.parse(old))
            await integrations.ensure_user_key(db, user_id=user.id, vault=vault)
    use_settings(monkeypatch, database_url=database_url, master_keys=SecretStr(f"{new},{old}"))

    result = await invoke("rotate", "--batch-size", "2")
    assert result.exit_code == 0, result.output
    assert "3 data keys re-wrapped in 2 batches" in result.output
    assert "before removing old from OO_MASTER_KEYS" in result.output
    async with sessions() as db:
        assert set((await db.scalars(select(UserKey.key_id))).all()) == {"new"}

    again = await invoke("rotate")
    assert again.exit_code == 0 and "0 data keys re-wrapped" in again.output


async def test_rotate_stops_clearly_on_a_master_key_missing_from_the_ring(
    sessions: async_sessionmaker[AsyncSession],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with sessions.begin() as db:
        user = await users.create_user(db, display_name=None)
        vault = TokenVault(KeyRing.parse(new_key_spec("forgotten")))
        await integrations.ensure_user_key(db, user_id=user.id, vault=vault)
    use_settings(monkeypatch, database_url=database_url, master_keys=SecretStr(new_key_spec()))
    result = await invoke("rotate")
    assert result.exit_code == 1
    assert "'forgotten'" in result.output and "not in the key ring" in result.output


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "no master_keys setting"),
        ({"master_keys": SecretStr("")}, "OO_MASTER_KEYS is empty"),
        ({"master_keys": SecretStr("k1:not-base64!")}, "OO_MASTER_KEYS is malformed"),
    ],
)
def test_rotate_explains_a_missing_or_bad_master_key_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fields: dict[str, object], message: str
) -> None:
    use_settings(monkeypatch, database_url=f"sqlite+aiosqlite:///{tmp_path / 'oo.db'}", **fields)
    result = runner.invoke(app, ["rotate"])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
