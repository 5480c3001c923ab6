"""feedback_events: one reaction per (tip, kind); tips.why: the snippets a tip was made from.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("tips") as batch_op:
        batch_op.add_column(sa.Column("why", JSON, nullable=True))
    with op.batch_alter_table("feedback_events") as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_feedback_events_tip_id"), ["tip_id", "kind"]
        )


def downgrade() -> None:
    with op.batch_alter_table("feedback_events") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_feedback_events_tip_id"), type_="unique")
    with op.batch_alter_table("tips") as batch_op:
        batch_op.drop_column("why")
