"""Handoff: staff accounts and sessions, tickets, ratings.

Revision ID: handoff_0001
Revises: 0001_baseline
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "handoff_0001"
down_revision: str | Sequence[str] | None = "0001_baseline"
branch_labels: str | Sequence[str] | None = ("handoff",)
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "handoff_agent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("max_chats", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("is_online", sa.Boolean(), nullable=False),
        sa.Column("last_seen_at", TZ, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_handoff_agent"),
        sa.UniqueConstraint("username", name="uq_handoff_agent_username"),
    )
    op.create_table(
        "handoff_staff_session",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_handoff_staff_session"),
        sa.ForeignKeyConstraint(["agent_id"], ["handoff_agent.id"], ondelete="CASCADE",
                                name="fk_handoff_staff_session_agent_id_handoff_agent"),
    )
    op.create_index("ix_handoff_staff_session_agent_id", "handoff_staff_session", ["agent_id"])
    op.create_table(
        "handoff_ticket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("emotion", sa.JSON(), nullable=True),
        sa.Column("turns", sa.JSON(), nullable=False),
        sa.Column("slots", sa.JSON(), nullable=False),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("contact_mobile", sa.String(32), nullable=True),
        sa.Column("left_messages", sa.JSON(), nullable=False),
        sa.Column("opened_seq", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("disposition", sa.String(32), nullable=True),
        sa.Column("close_note", sa.Text(), nullable=True),
        sa.Column("alert_count", sa.Integer(), nullable=False),
        sa.Column("last_alert_at", TZ, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("claimed_at", TZ, nullable=True),
        sa.Column("closed_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_handoff_ticket"),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"], ondelete="CASCADE",
                                name="fk_handoff_ticket_conversation_id_conversation"),
        sa.ForeignKeyConstraint(["agent_id"], ["handoff_agent.id"],
                                name="fk_handoff_ticket_agent_id_handoff_agent"),
    )
    op.create_index("ix_handoff_ticket_conversation_id", "handoff_ticket", ["conversation_id"])
    op.create_index("ix_handoff_ticket_status", "handoff_ticket", ["status"])
    op.create_index("ix_handoff_ticket_agent_id", "handoff_ticket", ["agent_id"])
    op.create_index("ix_handoff_ticket_created_at", "handoff_ticket", ["created_at"])
    op.create_table(
        "handoff_rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_handoff_rating"),
        sa.ForeignKeyConstraint(["ticket_id"], ["handoff_ticket.id"], ondelete="CASCADE",
                                name="fk_handoff_rating_ticket_id_handoff_ticket"),
        sa.UniqueConstraint("ticket_id", name="uq_handoff_rating_ticket_id"),
    )


def downgrade() -> None:
    op.drop_table("handoff_rating")
    op.drop_table("handoff_ticket")
    op.drop_table("handoff_staff_session")
    op.drop_table("handoff_agent")
