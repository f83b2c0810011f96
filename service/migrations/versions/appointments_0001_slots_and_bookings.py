"""Appointments: per-slot capacity counters and bookings.

Revision ID: appointments_0001
Revises: 0001_baseline
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "appointments_0001"
down_revision: str | Sequence[str] | None = "0001_baseline"
branch_labels: str | Sequence[str] | None = ("appointments",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "appointment_slot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.String(32), nullable=False),
        sa.Column("service_id", sa.String(64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("start", sa.Time(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_appointment_slot"),
        sa.UniqueConstraint("office_id", "service_id", "day", "start", name="uq_appointment_slot_key"),
    )
    op.create_table(
        "appointment_booking",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(8), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.String(32), nullable=False),
        sa.Column("window_id", sa.String(32), nullable=False),
        sa.Column("service_id", sa.String(64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("start", sa.Time(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("mobile", sa.String(16), nullable=False),
        sa.Column("id_number_masked", sa.String(18), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("idempotency_key", sa.String(128), nullable=True),
        sa.Column("conversation_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_appointment_booking"),
        sa.ForeignKeyConstraint(["slot_id"], ["appointment_slot.id"],
                                name="fk_appointment_booking_slot_id_appointment_slot"),
        sa.UniqueConstraint("code", name="uq_appointment_booking_code"),
        sa.UniqueConstraint("idempotency_key", name="uq_appointment_booking_idempotency_key"),
    )
    op.create_index("ix_appointment_booking_slot_id", "appointment_booking", ["slot_id"])
    op.create_index("ix_appointment_booking_status", "appointment_booking", ["status"])
    op.create_index("ix_appointment_booking_day", "appointment_booking", ["office_id", "day"])
    op.create_index("uq_appointment_booking_active", "appointment_booking", ["mobile", "service_id"], unique=True,
                    sqlite_where=sa.text("status = 'booked'"), postgresql_where=sa.text("status = 'booked'"))


def downgrade() -> None:
    op.drop_table("appointment_booking")
    op.drop_table("appointment_slot")
