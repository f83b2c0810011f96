"""Handoff: canned replies (标准化用语) supervisors edit, seeded with the defaults; internal notes on tickets.

The defaults are data, in handoff/canned_replies.zh.yml; this migration copies them
into the new table once. Later edits of the file reach only new installations,
and supervisors' edits of the table are never overwritten.

Revision ID: handoff_0002
Revises: handoff_0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
import yaml
from alembic import op

revision: str = "handoff_0002"
down_revision: str | Sequence[str] | None = "handoff_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
SEED_FILE = Path(__file__).resolve().parents[3] / "handoff" / "canned_replies.zh.yml"


def _defaults() -> list[dict[str, object]]:
    entries = yaml.safe_load(SEED_FILE.read_text(encoding="utf-8")) or []
    now = datetime.now(UTC)
    return [{"title": str(entry["title"]).strip(), "text": str(entry["text"]).strip(),
             "category": (str(entry["category"]).strip() or None) if entry.get("category") else None,
             "sort_order": (index + 1) * 10, "updated_by": "system", "updated_at": now, "is_active": True}
            for index, entry in enumerate(entries)]


def upgrade() -> None:
    canned = op.create_table(
        "handoff_canned_reply",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("category", sa.String(20), nullable=True),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_handoff_canned_reply"),
        sa.UniqueConstraint("title", name="uq_handoff_canned_reply_title"),
    )
    op.create_table(
        "handoff_ticket_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author_name", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_handoff_ticket_note"),
        sa.ForeignKeyConstraint(["ticket_id"], ["handoff_ticket.id"], ondelete="CASCADE",
                                name="fk_handoff_ticket_note_ticket_id_handoff_ticket"),
        sa.ForeignKeyConstraint(["author_id"], ["handoff_agent.id"], ondelete="SET NULL",
                                name="fk_handoff_ticket_note_author_id_handoff_agent"),
    )
    op.create_index("ix_handoff_ticket_note_ticket_id", "handoff_ticket_note", ["ticket_id"])
    op.bulk_insert(canned, _defaults())


def downgrade() -> None:
    op.drop_index("ix_handoff_ticket_note_ticket_id", table_name="handoff_ticket_note")
    op.drop_table("handoff_ticket_note")
    op.drop_table("handoff_canned_reply")
