"""Attempt limits: per-key failure and rate counters, and the alerts staff see.

Revision ID: attempts_0001
Revises: 0001_baseline
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "attempts_0001"
down_revision: str | Sequence[str] | None = "0001_baseline"
branch_labels: str | Sequence[str] | None = ("attempts",)
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "attempt_counter",
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("last_at", TZ, nullable=False),
        sa.Column("blocked_until", TZ, nullable=True),
        sa.Column("expires_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_attempt_counter"),
    )
    op.create_index("ix_attempt_counter_expires_at", "attempt_counter", ["expires_at"])
    op.create_table(
        "attempt_alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("acknowledged_by", sa.String(64), nullable=True),
        sa.Column("acknowledged_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_attempt_alert"),
    )
    op.create_index("ix_attempt_alert_created_at", "attempt_alert", ["created_at"])


def downgrade() -> None:
    op.drop_table("attempt_alert")
    op.drop_table("attempt_counter")
