"""FAQ: revisions of the knowledge base files published from the console, and runs of the retraining job.

Revision ID: faq_0002_revisions
Revises: faq_0001_query_log
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "faq_0002_revisions"
down_revision: str | Sequence[str] | None = "faq_0001_query_log"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "faq_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(200), nullable=False),
        sa.Column("target", sa.String(120), nullable=False),
        sa.Column("summary", sa.String(300), nullable=False),
        sa.Column("before_text", sa.Text(), nullable=False),
        sa.Column("after_text", sa.Text(), nullable=False),
        sa.Column("diff", sa.Text(), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rolled_back_from", sa.Integer(), nullable=True),
        sa.Column("nlu_before", sa.String(64), nullable=False),
        sa.Column("nlu_after", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_faq_revision"),
        sa.ForeignKeyConstraint(["rolled_back_from"], ["faq_revision.id"],
                                name="fk_faq_revision_rolled_back_from_faq_revision"),
    )
    op.create_index("ix_faq_revision_path", "faq_revision", ["path"])
    op.create_index("ix_faq_revision_target", "faq_revision", ["target"])
    op.create_index("ix_faq_revision_created_at", "faq_revision", ["created_at"])
    op.create_table(
        "faq_retrain_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("command", sa.Text(), nullable=False),
        sa.Column("started_by", sa.String(64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("timed_out", sa.Boolean(), nullable=False),
        sa.Column("log_tail", sa.Text(), nullable=False),
        sa.Column("nlu_digest", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_faq_retrain_run"),
    )
    op.create_index("ix_faq_retrain_run_status", "faq_retrain_run", ["status"])
    op.create_index("ix_faq_retrain_run_finished_at", "faq_retrain_run", ["finished_at"])


def downgrade() -> None:
    op.drop_table("faq_retrain_run")
    op.drop_table("faq_revision")
