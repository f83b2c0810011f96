"""Web widget: client message ids, so re-sent messages are processed once.

Revision ID: web_0001
Revises: 0001_baseline
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "web_0001"
down_revision: str | Sequence[str] | None = "0001_baseline"
branch_labels: str | Sequence[str] | None = ("web",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_client_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_web_client_message"),
        sa.UniqueConstraint("conversation_id", "client_id", name="uq_web_client_message_conversation_id"),
    )
    op.create_index("ix_web_client_message_conversation_id", "web_client_message", ["conversation_id"])


def downgrade() -> None:
    op.drop_table("web_client_message")
