"""Builders for tests, as plain functions."""

import asyncio
import shutil
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement
from temporalio.common import SearchAttributeKey

from activities.deps import OAuthClientConfig
from agents.registry import Agent
from cli.seed import DEMO_CONSENTS
from contracts.agents import TaskCompletion, UserHistory
from contracts.temporal import SEARCH_ATTRIBUTES
from contracts.tips import StoreTipInput, TipDraft, TipRead
from core.crypto import KeyRing, new_key_spec
from core.vault import TokenVault
from sim.personas import make_persona
from store import history, integrations, migrate, tips, users
from store.db import create_engine, create_sessionmaker
from store.models import Integration
from tests.fakes.google import FakeGoogle


def dev_search_attributes() -> list[SearchAttributeKey[str]]:
    return [SearchAttributeKey.for_keyword(name) for name in SEARCH_ATTRIBUTES]


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def completions_at(
    tz_hours: list[tuple[datetime, str]], *, project: str | None = "p"
) -> list[TaskCompletion]:
    """Completions at the given UTC instants, keyed by position."""
    return [
        TaskCompletion(task_key=key, project_key=project, completed_at=at) for at, key in tz_hours
    ]


def history_at_hour(
    hour_utc: int, *, days: int = 30, end: datetime, tz: str = "UTC"
) -> UserHistory:
    """A person who finishes two tasks a day at the same UTC hour."""
    items = []
    for d in range(days, 0, -1):
        base = (end - timedelta(days=d)).replace(hour=hour_utc, minute=10, second=0, microsecond=0)
        items += [(base, f"t{d}a"), (base + timedelta(minutes=20), f"t{d}b")]
    return UserHistory(tz=tz, completions=completions_at(items))


async def persona_user(
    sessions: async_sessionmaker[AsyncSession],
    *,
    seed: int = 1,
    now: datetime | None = None,
    days: int = 60,
) -> uuid.UUID:
    """A consenting user with a persona's history."""
    persona = make_persona(seed, end=now or datetime.now(UTC), days=days)
    async with sessions.begin() as db:
        user = await users.create_user(
            db, display_name=None, tz=persona.truth.tz, consents=DEMO_CONSENTS
        )
        await history.add_completions(
            db, user_id=user.id, completions=persona.history.completions, source="demo"
        )
    return user.id


def fixed_agent(
    agent_id: str = "fixed",
    *,
    salience: float = 0.8,
    text: str = "Do the one thing.",
    kind: str = "advice",
) -> Agent:
    """An agent that always says the same thing: deterministic workflow and API tests."""
    from contracts.agents import AgentManifest, Snippet

    manifest = AgentManifest(
        id=agent_id,
        version="1.0.0",
        ttl=timedelta(hours=1),
        cadence=timedelta(hours=1),
        inputs=["task_completions"],
        consents=["todoist.read"],
    )

    def compute(history: UserHistory, prefs: object, now: datetime) -> Snippet:
        return Snippet(
            agent_id=agent_id,
            agent_version="1.0.0",
            text=text,
            kind=kind,
            facts={"n": len(history.completions)},
            salience=salience,
            expires_at=now + manifest.ttl,
        )

    return Agent(manifest=manifest, compute=compute)


async def raw_database_bytes(
    sessions: async_sessionmaker[AsyncSession], database_url: str
) -> list[bytes]:
    """Every view of the stored bytes we can take: files, or table contents and pg_dump."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        assert url.database
        files = [Path(url.database), Path(f"{url.database}-wal")]
        return [b"".join(p.read_bytes() for p in files if p.exists())]
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT i::text AS t FROM integrations i")
    finally:
        await conn.close()
    views = [b"".join(r["t"].encode() for r in rows)]
    async with sessions() as db:
        cells = (await db.execute(select(Integration))).scalars().all()
        views[0] += b"".join(
            (c.access_token_enc or b"") + (c.refresh_token_enc or b"") + (c.scopes or "").encode()
            for c in cells
        )
    if shutil.which("pg_dump"):
        proc = await asyncio.create_subprocess_exec(
            "pg_dump", "--data-only", f"--dbname={dsn}", stdout=asyncio.subprocess.PIPE
        )
        dump, _ = await proc.communicate()
        assert proc.returncode == 0
        views.append(dump)
    return views


TEST_VAULT = TokenVault(KeyRing.parse(new_key_spec("test-master")))


async def store_tokens(
    sessions: async_sessionmaker[AsyncSession],
    *,
    user_id: uuid.UUID,
    provider: str,
    access: str,
    refresh: str | None = None,
    expires_at: datetime | None = None,
    vault: TokenVault = TEST_VAULT,
) -> None:
    """A connected integration: the user's tokens sealed in the vault."""
    async with sessions.begin() as db:
        await integrations.save_tokens(
            db,
            user_id=user_id,
            provider=provider,
            vault=vault,
            access_token=access,
            refresh_token=refresh,
            expires_at=expires_at,
            scopes="calendar" if provider == "google" else "data:read",
        )


def google_client(google: FakeGoogle) -> OAuthClientConfig:
    """The OAuth client of oO at a fake Google."""
    return OAuthClientConfig(
        client_id=google.client_id,
        client_secret=SecretStr(google.client_secret),
        token_url=google.token_url,
        revoke_url=google.revoke_url,
    )


async def count_rows(
    sessions: async_sessionmaker[AsyncSession],
    model: type,
    *where: ColumnElement[bool],
) -> int:
    async with sessions() as db:
        return int(await db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def stored_tip(
    sessions: async_sessionmaker[AsyncSession],
    user_id: uuid.UUID,
    text: str = "Stored tip.",
    *,
    at: datetime | None = None,
    agent_ids: tuple[str, ...] = ("time-of-day",),
    ttl: timedelta = timedelta(hours=1),
) -> TipRead:
    """A tip of the user's, stored as a generation stores it, current for `ttl` from `at`."""
    inp = StoreTipInput(
        user_id=user_id,
        status="tip",
        reason="next",
        draft=TipDraft(text=text, agent_ids=list(agent_ids)),
        run_id=uuid.uuid4().hex,
        as_of=at or datetime.now(UTC),
    )
    async with sessions.begin() as db:
        outcome = await tips.store_outcome(db, inp=inp, ttl=ttl)
    assert outcome.tip is not None
    return outcome.tip


@asynccontextmanager
async def migrated(url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The database at `url` upgraded to the newest schema, and sessions on it (the engine is
    disposed on the way out)."""
    await migrate.upgrade(url)
    engine = create_engine(url)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()
