"""FAQ: log of questions (PII masked) for the traffic report.

Revision ID: faq_0001_query_log
Revises: 0001_baseline
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "faq_0001_query_log"
down_revision: str | Sequence[str] | None = "0001_baseline"
branch_labels: str | Sequence[str] | None = ("faq",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "faq_query",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("entry_id", sa.String(64), nullable=True),
        sa.Column("service", sa.String(64), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_faq_query"),
    )
    op.create_index("ix_faq_query_conversation_id", "faq_query", ["conversation_id"])
    op.create_index("ix_faq_query_status", "faq_query", ["status"])
    op.create_index("ix_faq_query_entry_id", "faq_query", ["entry_id"])
    op.create_index("ix_faq_query_created_at", "faq_query", ["created_at"])


def downgrade() -> None:
    op.drop_table("faq_query")
