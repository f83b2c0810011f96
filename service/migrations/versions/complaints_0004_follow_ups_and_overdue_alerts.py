"""Complaints: follow-up calls after a resolution, the once-only overdue warnings, and reopen counts.

Tickets already past a deadline when this runs are marked as announced, so the
first check after the upgrade does not flood every console with old news.

Revision ID: complaints_0004
Revises: complaints_0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "complaints_0004"
down_revision: str | Sequence[str] | None = "complaints_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("complaint") as batch:
        batch.add_column(sa.Column("first_response_alerted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("plan_alerted_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("reopen_count", sa.Integer(), nullable=False, server_default="0"))
    complaint = sa.table("complaint", sa.column("first_response_due", sa.DateTime(timezone=True)),
                         sa.column("plan_due", sa.DateTime(timezone=True)),
                         sa.column("first_response_alerted_at", sa.DateTime(timezone=True)),
                         sa.column("plan_alerted_at", sa.DateTime(timezone=True)))
    now = datetime.now(UTC)
    op.execute(complaint.update().where(complaint.c.first_response_due < now)
               .values(first_response_alerted_at=complaint.c.first_response_due))
    op.execute(complaint.update().where(complaint.c.plan_due < now).values(plan_alerted_at=complaint.c.plan_due))
    op.create_table(
        "complaint_follow_up",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("done_by", sa.String(64), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaint.id"], ondelete="CASCADE",
                                name="fk_complaint_follow_up_complaint_id_complaint"),
        sa.PrimaryKeyConstraint("id", name="pk_complaint_follow_up"),
    )
    for column in ("complaint_id", "status", "due_at"):
        op.create_index(f"ix_complaint_follow_up_{column}", "complaint_follow_up", [column])


def downgrade() -> None:
    op.drop_table("complaint_follow_up")
    with op.batch_alter_table("complaint") as batch:
        batch.drop_column("reopen_count")
        batch.drop_column("plan_alerted_at")
        batch.drop_column("first_response_alerted_at")
