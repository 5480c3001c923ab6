"""The tables of DESIGN.md §5. Every model declares its erasure policy."""

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from store.types import JsonType, UTCDateTime

Erasure = Literal["delete", "retain-pseudonymous"]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        uuid.UUID: Uuid(),
        dict[str, Any]: JsonType,
        list[Any]: JsonType,
    }
    # How account deletion treats rows of this table: deleted, or kept without identity.
    __erasure__: ClassVar[Erasure]


def _user_fk() -> Mapped[uuid.UUID]:
    return mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)


class User(Base):
    __tablename__ = "users"
    __erasure__ = "delete"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    display_name: Mapped[str | None] = mapped_column(String(200))
    tz: Mapped[str] = mapped_column(String(64), default="UTC")
    status: Mapped[str] = mapped_column(String(16), default="active")
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Identity(Base):
    __tablename__ = "identities"
    __erasure__ = "delete"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = _user_fk()
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Session(Base):
    __tablename__ = "sessions"
    __erasure__ = "delete"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = _user_fk()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    authenticated_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class LoginToken(Base):
    """One-time login links (the dev login); only the hash is kept."""

    __tablename__ = "login_tokens"
    __erasure__ = "delete"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = _user_fk()
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class Integration(Base):
    __tablename__ = "integrations"
    __erasure__ = "delete"
    __table_args__ = (UniqueConstraint("user_id", "provider"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = _user_fk()
    provider: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32), default="active")
    access_token_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    refresh_token_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime | None]
    scopes: Mapped[str | None] = mapped_column(String(500))
    sync_cursor: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class UserKey(Base):
    __tablename__ = "user_keys"
    __erasure__ = "delete"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    key_id: Mapped[str] = mapped_column(String(64))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Consent(Base):
    __tablename__ = "consents"
    __erasure__ = "delete"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    granted: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class UserPreference(Base):
    __tablename__ = "user_preferences"
    __erasure__ = "delete"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JsonType)
    source: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Context(Base):
    __tablename__ = "contexts"
    __erasure__ = "delete"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = _user_fk()
    kind: Mapped[str] = mapped_column(String(32))
    value: Mapped[dict[str, Any]]
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]


class TaskCompletion(Base):
    """A derivative of a completed task: hashed keys and times, never task text."""

    __tablename__ = "task_completions"
    __erasure__ = "delete"
    __table_args__ = (
        UniqueConstraint("user_id", "source", "task_key", "completed_at"),
        Index("ix_task_completions_user_completed", "user_id", "completed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(32), default="todoist")
    task_key: Mapped[str] = mapped_column(String(64))
    project_key: Mapped[str | None] = mapped_column(String(64))
    completed_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    due_all_day: Mapped[bool] = mapped_column(Boolean, default=True)
    priority: Mapped[int] = mapped_column(Integer, default=1)
    recurring: Mapped[bool] = mapped_column(Boolean, default=False)


class FeedbackEvent(Base):
    """A reaction to a tip; one per (tip, kind)."""

    __tablename__ = "feedback_events"
    __erasure__ = "delete"
    __table_args__ = (UniqueConstraint("tip_id", "kind"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = _user_fk()
    tip_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tips.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgentOutput(Base):
    __tablename__ = "agent_outputs"
    __erasure__ = "delete"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    agent_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_version: Mapped[str] = mapped_column(String(32))
    snippet: Mapped[dict[str, Any] | None]
    salience: Mapped[float | None]
    computed_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class Tip(Base):
    __tablename__ = "tips"
    __erasure__ = "delete"
    __table_args__ = (Index("ix_tips_user_created", "user_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    agent_ids: Mapped[list[Any]]
    generator: Mapped[str] = mapped_column(String(16))
    model: Mapped[str | None] = mapped_column(String(100))
    prompt_version: Mapped[str | None] = mapped_column(String(32))
    # The generating workflow run: storing twice for one run keeps one tip.
    run_id: Mapped[str] = mapped_column(String(64), unique=True)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    # The contributing agents' snippets when the tip was made (GET /api/tips/{id}/why).
    why: Mapped[list[Any] | None]


class TipDecision(Base):
    """Every tip decision with what was considered, for offline evaluation."""

    __tablename__ = "tip_decisions"
    __erasure__ = "delete"
    __table_args__ = (Index("ix_tip_decisions_user_decided", "user_id", "decided_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    run_id: Mapped[str] = mapped_column(String(64), unique=True)
    tip_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tips.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    generator: Mapped[str | None] = mapped_column(String(16))
    candidates: Mapped[list[Any]]
    chosen: Mapped[list[Any]]
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    decided_at: Mapped[datetime]
    # When a tip is next worth offering (a "nothing now", quiet or budget answer says so).
    next_tip_at: Mapped[datetime | None]


class DeletionAudit(Base):
    """What account deletion did, under a pseudonymous id only."""

    __tablename__ = "deletion_audit"
    __erasure__ = "retain-pseudonymous"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    subject_hash: Mapped[str] = mapped_column(String(64), index=True)
    requested_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    steps: Mapped[dict[str, Any]]
