"""Complaints: tickets, their history, escalations, day counters and failed lookups.

Revision ID: complaints_0001
Revises: 0001_baseline
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "complaints_0001"
down_revision: str | Sequence[str] | None = "0001_baseline"
branch_labels: str | Sequence[str] | None = ("complaints",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "complaint_day_counter",
        sa.Column("day", sa.String(8), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name="pk_complaint_day_counter"),
    )
    op.create_table(
        "complaint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("location", sa.String(200), nullable=True),
        sa.Column("occurred", sa.String(100), nullable=True),
        sa.Column("window", sa.String(16), nullable=True),
        sa.Column("mobile", sa.String(11), nullable=True),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("lookup_code", sa.String(4), nullable=True),
        sa.Column("contact_name", sa.String(64), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("long", sa.Float(), nullable=True),
        sa.Column("media_url", sa.String(500), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("assignee", sa.String(64), nullable=True),
        sa.Column("is_repeat", sa.Boolean(), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_response_due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("plan_due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("plan_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_complaint"),
        sa.UniqueConstraint("number", name="uq_complaint_number"),
    )
    for column in ("category", "window", "mobile", "conversation_id", "status", "submitted_at"):
        op.create_index(f"ix_complaint_{column}", "complaint", [column])
    op.create_table(
        "complaint_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_complaint_event"),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaint.id"], ondelete="CASCADE",
                                name="fk_complaint_event_complaint_id_complaint"),
    )
    op.create_index("ix_complaint_event_complaint_id", "complaint_event", ["complaint_id"])
    op.create_table(
        "complaint_escalation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("related_numbers", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_by", sa.String(64), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_complaint_escalation"),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaint.id"], ondelete="CASCADE",
                                name="fk_complaint_escalation_complaint_id_complaint"),
    )
    op.create_index("ix_complaint_escalation_complaint_id", "complaint_escalation", ["complaint_id"])
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


def downgrade() -> None:
    op.drop_table("complaint_lookup_failure")
    op.drop_table("complaint_escalation")
    op.drop_table("complaint_event")
    op.drop_table("complaint")
    op.drop_table("complaint_day_counter")
