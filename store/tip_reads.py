"""The hot read behind `GET /api/tip`: a session, its user and their current tip in one query.

Reading a stored tip is what the page does most, so it is one statement instead of two
transactions. On SQLite the statement runs on a read-only connection of the standard
`sqlite3` module in the event loop's own thread: a point lookup on a WAL database takes
microseconds and never waits for a writer, where a hop to aiosqlite's thread costs far more.
Anything but the plain case (no cookie, an expired session or one due for its idle touch, an
inactive user, no current tip) is left to the general path, which answers it in full.
"""

import json
import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from contracts.tips import TipOutcome, TipRead
from store.feedback import dismissed
from store.models import Session, Tip, User
from store.sessions import TOUCH_EVERY, hash_secret, session_expired

# SQLAlchemy's SQLite DATETIME storage format, so that stored stamps compare as text.
_SQLITE_STAMP = "%Y-%m-%d %H:%M:%S.%f"
# The read runs on the event loop, so it never waits for a lock (WAL readers only meet one
# while a WAL index is rebuilt): a busy database sends the request on to the general path.
SQLITE_READ_BUSY_MS = 0
MAX_KEPT_BODIES = 10_000


@dataclass(frozen=True)
class SessionTimes:
    """A session's clock, as store.sessions judges it."""

    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


def _statement() -> Select[Any]:
    newest = (
        select(Tip.id)
        .where(Tip.user_id == Session.user_id, Tip.expires_at > bindparam("now", None))
        .order_by(Tip.created_at.desc())
        .limit(1)
        .correlate(Session)
        .scalar_subquery()
    )
    return (
        select(
            Session.user_id,
            Session.created_at,
            Session.last_seen_at,
            Session.expires_at,
            User.status,
            Tip.id,
            Tip.text,
            Tip.kind,
            Tip.agent_ids,
            Tip.generator,
            Tip.created_at,
            Tip.expires_at,
            dismissed(Tip.id),
        )
        .join(User, User.id == Session.user_id)
        .outerjoin(Tip, Tip.id == newest)
        .where(Session.token_hash == bindparam("token_hash", None))
    )


STATEMENT = _statement()


def _stamp(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _tip(row: Sequence[Any]) -> TipRead:
    """The tip columns of a STATEMENT row, typed by SQLAlchemy or raw from sqlite3."""
    tip_id, text, kind, agent_ids, generator, created_at, expires_at = row
    return TipRead(
        id=tip_id if isinstance(tip_id, uuid.UUID) else uuid.UUID(tip_id),
        text=text,
        kind=kind,
        agent_ids=json.loads(agent_ids) if isinstance(agent_ids, str) else agent_ids or [],
        generator=generator,
        created_at=_stamp(created_at),
        expires_at=_stamp(expires_at),
    )


class TipReader:
    """Answers GET /api/tip in the plain case from one statement; None means "not plain".

    On SQLite the statement runs inline on a read-only sqlite3 connection; elsewhere on the
    async engine. A tip row never changes once stored, so its rendered body is kept by id.
    """

    def __init__(self, engine: AsyncEngine, *, idle: timedelta, absolute: timedelta) -> None:
        self._engine = engine
        self._idle = idle
        self._absolute = absolute
        self._bodies: dict[Any, bytes] = {}
        self._sqlite: sqlite3.Connection | None = None
        self._sqlite_sql = ""
        self._sqlite_params: tuple[str, ...] = ()
        self._sqlite_constants: dict[str, Any] = {}
        url = engine.url
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            compiled = STATEMENT.compile(
                dialect=sqlite.dialect(), compile_kwargs={"render_postcompile": True}
            )
            self._sqlite_sql = str(compiled)
            self._sqlite_params = tuple(compiled.positiontup or ())
            # The statement's own literals (the dismissing kinds, LIMIT 1), in order.
            self._sqlite_constants = dict(compiled.params)
            self._path = url.database

    def _sqlite_connection(self) -> sqlite3.Connection:
        if self._sqlite is None:
            # As a URI, with ?, # and % in the path escaped: read-only, never created.
            uri = f"{Path(self._path).resolve().as_uri()}?mode=ro"
            self._sqlite = sqlite3.connect(uri, uri=True, check_same_thread=False)
            self._sqlite.execute(f"PRAGMA busy_timeout={SQLITE_READ_BUSY_MS}")
        return self._sqlite

    async def _row(self, sid: str, now: datetime) -> Sequence[Any] | None:
        values: dict[str, Any] = {"token_hash": hash_secret(sid), "now": now}
        if not self._sqlite_sql:
            async with self._engine.connect() as conn:
                found: Sequence[Any] | None = (await conn.execute(STATEMENT, values)).first()
            return found
        values["now"] = now.astimezone(UTC).strftime(_SQLITE_STAMP)
        given = self._sqlite_constants | values
        params = [given[name] for name in self._sqlite_params]
        try:
            row: Sequence[Any] | None = (
                self._sqlite_connection().execute(self._sqlite_sql, params).fetchone()
            )
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                self.close()  # e.g. the file was replaced: reopen next time
            return None  # answered in full by the general path
        except sqlite3.Error:
            self.close()
            return None
        return row

    async def answer(self, *, sid: str | None, now: datetime) -> bytes | None:
        """The body of GET /api/tip if the session is live, needs no idle touch, its user is
        active and has a current, undismissed tip; otherwise None."""
        if not sid:
            return None
        row = await self._row(sid, now)
        if row is None:
            return None
        _user_id, created, seen, expires, status, tip_id, *tip_columns, is_dismissed = row
        if status != "active" or tip_id is None or is_dismissed:
            return None
        clock = SessionTimes(_stamp(created), _stamp(seen), _stamp(expires))
        expired = session_expired(clock, now=now, idle=self._idle, absolute=self._absolute)
        if expired or now - clock.last_seen_at > TOUCH_EVERY:
            return None  # the general path ends or touches the session
        body = self._bodies.get(tip_id)
        if body is None:
            if len(self._bodies) >= MAX_KEPT_BODIES:
                self._bodies.clear()
            tip = _tip((tip_id, *tip_columns))
            body = self._bodies[tip_id] = (
                TipOutcome(status="tip", tip=tip).model_dump_json().encode()
            )
        return body

    def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
