"""Selling in the chat: carts, checkouts (Nexus draft orders), coupons, order attributions.

Revision ID: issue15_sales
Revises: 14_search_speed
Create Date: 2026-11-27 10:29:13.292077
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "issue15_sales"
down_revision: str | None = "14_search_speed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "carts",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("conversation_id", sa.UUID(), nullable=False),
        sa.Column("items", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["chat_conversations.id"],
            name=op.f("fk_carts_conversation_id_chat_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_carts_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carts")),
        sa.UniqueConstraint("tenant_id", "conversation_id", name=op.f("uq_carts_tenant_id_conversation_id")),
    )
    op.create_index(op.f("ix_carts_tenant_id"), "carts", ["tenant_id"], unique=False)
    op.create_table(
        "checkouts",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("conversation_id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("draft_order_id", sa.BigInteger(), nullable=False),
        sa.Column("checkout_url", sa.Text(), nullable=False),
        sa.Column("items", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("total", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("coupon_code", sa.String(length=40), nullable=True),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "source IN ('ai', 'staff', 'recovery', 'campaign')", name=op.f("ck_checkouts_source")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["chat_conversations.id"],
            name=op.f("fk_checkouts_conversation_id_chat_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_checkouts_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_checkouts_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkouts")),
        sa.UniqueConstraint(
            "tenant_id", "draft_order_id", name=op.f("uq_checkouts_tenant_id_draft_order_id")
        ),
    )
    op.create_index(op.f("ix_checkouts_conversation_id"), "checkouts", ["conversation_id"], unique=False)
    op.create_index(op.f("ix_checkouts_customer_id"), "checkouts", ["customer_id"], unique=False)
    op.create_index(op.f("ix_checkouts_tenant_id"), "checkouts", ["tenant_id"], unique=False)
    op.create_index(
        op.f("ix_checkouts_tenant_id_created_at"), "checkouts", ["tenant_id", "created_at"], unique=False
    )
    op.create_table(
        "coupons",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("conversation_id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.BigInteger(), nullable=True),
        sa.Column("percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("min_purchase", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "reason IN ('on_request', 'on_recovery', 'staff')", name=op.f("ck_coupons_reason")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["chat_conversations.id"],
            name=op.f("fk_coupons_conversation_id_chat_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_coupons_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_coupons_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupons")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_coupons_tenant_id_code")),
    )
    op.create_index(op.f("ix_coupons_conversation_id"), "coupons", ["conversation_id"], unique=False)
    op.create_index(op.f("ix_coupons_customer_id"), "coupons", ["customer_id"], unique=False)
    op.create_index(op.f("ix_coupons_tenant_id"), "coupons", ["tenant_id"], unique=False)
    op.create_index(
        op.f("ix_coupons_tenant_id_created_at"), "coupons", ["tenant_id", "created_at"], unique=False
    )
    op.create_table(
        "order_attributions",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("order_number", sa.String(length=20), nullable=True),
        sa.Column("conversation_id", sa.UUID(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("matched_by", sa.String(length=20), nullable=False),
        sa.Column("total", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("payment_status", sa.String(length=30), nullable=True),
        sa.Column("ordered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "matched_by IN ('draft_order', 'coupon', 'customer_window')",
            name=op.f("ck_order_attributions_matched_by"),
        ),
        sa.CheckConstraint(
            "source IN ('ai', 'staff', 'recovery', 'campaign')", name=op.f("ck_order_attributions_source")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["chat_conversations.id"],
            name=op.f("fk_order_attributions_conversation_id_chat_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_order_attributions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_attributions")),
        sa.UniqueConstraint("tenant_id", "order_id", name=op.f("uq_order_attributions_tenant_id_order_id")),
    )
    op.create_index(
        op.f("ix_order_attributions_conversation_id"), "order_attributions", ["conversation_id"], unique=False
    )
    op.create_index(
        op.f("ix_order_attributions_tenant_id"), "order_attributions", ["tenant_id"], unique=False
    )
    op.create_index(
        op.f("ix_order_attributions_tenant_id_ordered_at"),
        "order_attributions",
        ["tenant_id", "ordered_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_order_attributions_tenant_id_ordered_at"), table_name="order_attributions")
    op.drop_index(op.f("ix_order_attributions_tenant_id"), table_name="order_attributions")
    op.drop_index(op.f("ix_order_attributions_conversation_id"), table_name="order_attributions")
    op.drop_table("order_attributions")
    op.drop_index(op.f("ix_coupons_tenant_id_created_at"), table_name="coupons")
    op.drop_index(op.f("ix_coupons_tenant_id"), table_name="coupons")
    op.drop_index(op.f("ix_coupons_customer_id"), table_name="coupons")
    op.drop_index(op.f("ix_coupons_conversation_id"), table_name="coupons")
    op.drop_table("coupons")
    op.drop_index(op.f("ix_checkouts_tenant_id_created_at"), table_name="checkouts")
    op.drop_index(op.f("ix_checkouts_tenant_id"), table_name="checkouts")
    op.drop_index(op.f("ix_checkouts_customer_id"), table_name="checkouts")
    op.drop_index(op.f("ix_checkouts_conversation_id"), table_name="checkouts")
    op.drop_table("checkouts")
    op.drop_index(op.f("ix_carts_tenant_id"), table_name="carts")
    op.drop_table("carts")
