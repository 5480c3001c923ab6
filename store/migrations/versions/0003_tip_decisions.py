"""tip_decisions (the decision log) and tips.latency_ms.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("tips") as batch_op:
        batch_op.add_column(sa.Column("latency_ms", sa.Integer(), nullable=True))
    op.create_table(
        "tip_decisions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("tip_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("generator", sa.String(length=16), nullable=True),
        sa.Column("candidates", JSON, nullable=False),
        sa.Column("chosen", JSON, nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_tip_decisions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tip_id"], ["tips.id"], name=op.f("fk_tip_decisions_tip_id_tips"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tip_decisions")),
        sa.UniqueConstraint("run_id", name=op.f("uq_tip_decisions_run_id")),
    )
    op.create_index(
        "ix_tip_decisions_user_decided", "tip_decisions", ["user_id", "decided_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_tip_decisions_user_decided", table_name="tip_decisions")
    op.drop_table("tip_decisions")
    with op.batch_alter_table("tips") as batch_op:
        batch_op.drop_column("latency_ms")
