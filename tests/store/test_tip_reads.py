"""The one-statement tip read answers exactly when the general path would serve a stored tip."""

import sqlite3
import time
import uuid
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.tips import TipOutcome
from store import feedback, tips, users
from store import sessions as session_store
from store.models import Session, User
from store.sessions import TOUCH_EVERY
from store.tip_reads import TipReader
from tests.factories import migrated, stored_tip

Maker = async_sessionmaker[AsyncSession]
IDLE = timedelta(days=14)
ABSOLUTE = timedelta(days=90)


def reader(sessions: Maker) -> TipReader:
    engine = sessions.kw["bind"]
    return TipReader(engine, idle=IDLE, absolute=ABSOLUTE)


async def signed_in(sessions: Maker) -> tuple[uuid.UUID, str]:
    async with sessions.begin() as db:
        user = await users.create_user(db, display_name=None, tz="UTC", consents=())
        sid = await session_store.create_session(
            db, user_id=user.id, now=datetime.now(UTC), absolute=ABSOLUTE
        )
    return user.id, sid


async def general(sessions: Maker, user_id: uuid.UUID) -> bytes:
    """What the general path serves for a stored tip."""
    async with sessions() as db:
        current = await tips.current_tip(db, user_id=user_id, now=datetime.now(UTC))
    assert current is not None
    return TipOutcome(status="tip", tip=current).model_dump_json().encode()


async def test_a_live_session_with_a_current_tip_reads_what_the_general_path_serves(
    sessions: Maker,
) -> None:
    user_id, sid = await signed_in(sessions)
    await stored_tip(sessions, user_id, "Older.", at=datetime.now(UTC) - timedelta(minutes=5))
    await stored_tip(sessions, user_id, "Newest «ünïcode».")
    with closing(reader(sessions)) as read:
        body = await read.answer(sid=sid, now=datetime.now(UTC))
        assert body == await general(sessions, user_id)
        assert "Newest «ünïcode»." in (body or b"").decode()
        # A newer tip is read at once (nothing stale is kept per user).
        await stored_tip(sessions, user_id, "Newer still.")
        again = await read.answer(sid=sid, now=datetime.now(UTC))
        assert again == await general(sessions, user_id)
        assert b"Newer still." in (again or b"")


async def test_each_session_reads_only_its_own_users_tip(sessions: Maker) -> None:
    alice, alice_sid = await signed_in(sessions)
    bob, bob_sid = await signed_in(sessions)
    await stored_tip(sessions, alice, "For Alice.")
    await stored_tip(sessions, bob, "For Bob.")
    with closing(reader(sessions)) as read:
        now = datetime.now(UTC)
        assert b"For Alice." in (await read.answer(sid=alice_sid, now=now) or b"")
        assert b"For Bob." in (await read.answer(sid=bob_sid, now=now) or b"")
        assert await read.answer(sid="not-a-session", now=now) is None
        assert await read.answer(sid=None, now=now) is None


async def test_anything_but_the_plain_case_is_left_to_the_general_path(
    sessions: Maker,
) -> None:
    with closing(reader(sessions)) as read:
        now = datetime.now(UTC)
        # No tip yet: a miss, which the general path turns into a generation.
        user_id, sid = await signed_in(sessions)
        assert await read.answer(sid=sid, now=now) is None
        # Only an expired tip.
        await stored_tip(sessions, user_id, "Old.", at=now - timedelta(hours=2))
        assert await read.answer(sid=sid, now=now) is None
        # A current tip, dismissed: an older current one must not stand in for it.
        await stored_tip(sessions, user_id, "Current.", at=now - timedelta(minutes=2))
        newest = (await stored_tip(sessions, user_id, "Dismissed.")).id
        async with sessions.begin() as db:
            await feedback.record_reaction(db, user_id=user_id, tip_id=newest, kind="not_now")
        assert await read.answer(sid=sid, now=datetime.now(UTC)) is None
        # A like keeps a tip current.
        liked_user, liked_sid = await signed_in(sessions)
        liked = (await stored_tip(sessions, liked_user, "Liked.")).id
        async with sessions.begin() as db:
            await feedback.record_reaction(db, user_id=liked_user, tip_id=liked, kind="like")
        assert b"Liked." in (await read.answer(sid=liked_sid, now=datetime.now(UTC)) or b"")
        # A session due for its idle touch, an idle-expired one, an absolutely expired one,
        # and a user who is being deleted.
        for change in (
            {"last_seen_at": now - TOUCH_EVERY - timedelta(seconds=5)},
            {"last_seen_at": now - IDLE - timedelta(seconds=5)},
            {"created_at": now - ABSOLUTE - timedelta(seconds=5)},
            {"expires_at": now - timedelta(seconds=5)},
        ):
            other, other_sid = await signed_in(sessions)
            await stored_tip(sessions, other, "Fine tip.")
            assert await read.answer(sid=other_sid, now=datetime.now(UTC)) is not None
            async with sessions.begin() as db:
                await db.execute(update(Session).where(Session.user_id == other).values(**change))
            assert await read.answer(sid=other_sid, now=datetime.now(UTC)) is None, change
        deleting, deleting_sid = await signed_in(sessions)
        await stored_tip(sessions, deleting, "Fine tip.")
        async with sessions.begin() as db:
            await db.execute(update(User).where(User.id == deleting).values(status="deleting"))
        assert await read.answer(sid=deleting_sid, now=datetime.now(UTC)) is None


def sqlite_at(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def test_a_database_path_with_uri_characters_is_read_where_it_is(tmp_path: Path) -> None:
    """The read-only connection is a URI: a `#` in the path must not cut it short (dropping
    `mode=ro`, and opening, or creating, another file read-write)."""
    folder = tmp_path / "data #1"
    folder.mkdir()
    async with migrated(sqlite_at(folder / "oo.db")) as sessions:
        user_id, sid = await signed_in(sessions)
        await stored_tip(sessions, user_id, "Found.")
        with closing(reader(sessions)) as read:
            answer = await read.answer(sid=sid, now=datetime.now(UTC))
            assert answer == await general(sessions, user_id)
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder.name]


async def test_a_locked_sqlite_database_is_left_to_the_general_path_at_once(
    tmp_path: Path,
) -> None:
    async with migrated(sqlite_at(tmp_path / "oo.db")) as sessions:
        user_id, sid = await signed_in(sessions)
        await stored_tip(sessions, user_id, "Locked out.")
        await sessions.kw["bind"].dispose()  # the exclusive lock needs the file to itself
        with (
            closing(reader(sessions)) as read,
            closing(sqlite3.connect(tmp_path / "oo.db")) as locker,
        ):
            # An exclusive lock keeps even WAL readers out until its connection closes.
            locker.execute("PRAGMA locking_mode=EXCLUSIVE")
            locker.execute("UPDATE users SET display_name = 'x' WHERE id IS NULL")
            locker.commit()
            started = time.monotonic()
            assert await read.answer(sid=sid, now=datetime.now(UTC)) is None
            waited_s = time.monotonic() - started
            connection = read._sqlite
            locker.close()
            assert waited_s < 0.05
            # The same connection reads once the lock is gone.
            answer = await read.answer(sid=sid, now=datetime.now(UTC))
            assert answer == await general(sessions, user_id)
            assert connection is not None and read._sqlite is connection
