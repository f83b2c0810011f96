"""Complaints: failed status look-ups are counted by service.attempts now; the old table goes.

Revision ID: complaints_0003
Revises: complaints_0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "complaints_0003"
down_revision: str | Sequence[str] | None = "complaints_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("complaint_lookup_failure")


def downgrade() -> None:
    op.create_table(
        "complaint_lookup_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_number", sa.String(40), nullable=False),
        sa.Column("requester", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_complaint_lookup_failure"),
    )
    for column in ("ticket_number", "requester", "created_at"):
        op.create_index(f"ix_complaint_lookup_failure_{column}", "complaint_lookup_failure", [column])
