"""Complaints: staff notes marked public (shown, masked, as Open311 status_notes); every earlier note stays internal.

Revision ID: complaints_0002
Revises: complaints_0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "complaints_0002"
down_revision: str | Sequence[str] | None = "complaints_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("complaint_event") as batch:
        batch.add_column(sa.Column("is_public", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("complaint_event") as batch:
        batch.drop_column("is_public")
