"""WeChat channel: callback dedup, followers, shared access_token, customer-service outbox.

Revision ID: wechat_0001
Revises: 0001_baseline
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "wechat_0001"
down_revision: str | Sequence[str] | None = "0001_baseline"
branch_labels: str | Sequence[str] | None = ("wechat",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "wechat_inbound",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedup_key", sa.String(160), nullable=False),
        sa.Column("openid", sa.String(128), nullable=False),
        sa.Column("msg_type", sa.String(32), nullable=False),
        sa.Column("event", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reply_text", sa.Text(), nullable=True),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_wechat_inbound"),
        sa.UniqueConstraint("dedup_key", name="uq_wechat_inbound_dedup_key"),
    )
    op.create_index("ix_wechat_inbound_openid", "wechat_inbound", ["openid"])
    op.create_index("ix_wechat_inbound_created_at", "wechat_inbound", ["created_at"])
    op.create_table(
        "wechat_follower",
        sa.Column("openid", sa.String(128), nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("subscribed", sa.Boolean(), nullable=False),
        sa.Column("last_buttons", sa.JSON(), nullable=False),
        sa.Column("last_inbound_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("subscribed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unsubscribed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("openid", name="pk_wechat_follower"),
    )
    op.create_index("ix_wechat_follower_conversation_id", "wechat_follower", ["conversation_id"])
    op.create_table(
        "wechat_access_token",
        sa.Column("app_id", sa.String(64), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refresh_lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("app_id", name="pk_wechat_access_token"),
    )
    op.create_table(
        "wechat_outbound",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("openid", sa.String(128), nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(255), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_wechat_outbound"),
    )
    op.create_index("ix_wechat_outbound_openid", "wechat_outbound", ["openid"])
    op.create_index("ix_wechat_outbound_status", "wechat_outbound", ["status"])


def downgrade() -> None:
    op.drop_table("wechat_outbound")
    op.drop_table("wechat_access_token")
    op.drop_table("wechat_follower")
    op.drop_table("wechat_inbound")
