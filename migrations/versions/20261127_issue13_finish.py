"""Campaigns, finished: revenue credited to a campaign, and the order facts audiences filter on.

- order_attributions.campaign_id (source `campaign`), two new `matched_by` values, and a null
  conversation for a campaign coupon used by someone who never talked to the store;
- customer_orders: the minimal facts of each order webhook (customer, when, status, products).

Revision ID: issue13_finish
Revises: issue11_security
Create Date: 2026-11-27 14:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "issue13_finish"
down_revision: str | None = "issue11_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_MATCHED = "matched_by IN ('draft_order', 'coupon', 'customer_window')"
NEW_MATCHED = (
    "matched_by IN ('draft_order', 'coupon', 'customer_window', 'campaign_coupon', 'campaign_window')"
)


def upgrade() -> None:
    op.add_column("order_attributions", sa.Column("campaign_id", sa.UUID(), nullable=True))
    op.alter_column("order_attributions", "conversation_id", existing_type=sa.UUID(), nullable=True)
    op.create_foreign_key(
        op.f("fk_order_attributions_campaign_id_campaigns"),
        "order_attributions",
        "campaigns",
        ["campaign_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index(
        op.f("ix_order_attributions_campaign_id"), "order_attributions", ["campaign_id"], unique=False
    )
    op.drop_constraint(op.f("ck_order_attributions_matched_by"), "order_attributions", type_="check")
    op.create_check_constraint(op.f("ck_order_attributions_matched_by"), "order_attributions", NEW_MATCHED)

    op.create_table(
        "customer_orders",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=True),
        sa.Column("status", sa.String(length=30), nullable=True),
        sa.Column("payment_status", sa.String(length=30), nullable=True),
        sa.Column("total", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("product_ids", postgresql.ARRAY(sa.BigInteger()), server_default="{}", nullable=False),
        sa.Column("ordered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_orders_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_customer_orders_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_orders")),
        sa.UniqueConstraint("tenant_id", "order_id", name=op.f("uq_customer_orders_tenant_id_order_id")),
    )
    op.create_index(op.f("ix_customer_orders_tenant_id"), "customer_orders", ["tenant_id"], unique=False)
    op.create_index(
        op.f("ix_customer_orders_tenant_id_customer_id_ordered_at"),
        "customer_orders",
        ["tenant_id", "customer_id", "ordered_at"],
        unique=False,
    )
    op.create_index(
        "ix_customer_orders_product_ids",
        "customer_orders",
        ["product_ids"],
        unique=False,
        postgresql_using="gin",
    )


def downgrade() -> None:
    op.drop_index("ix_customer_orders_product_ids", table_name="customer_orders", postgresql_using="gin")
    op.drop_index(op.f("ix_customer_orders_tenant_id_customer_id_ordered_at"), table_name="customer_orders")
    op.drop_index(op.f("ix_customer_orders_tenant_id"), table_name="customer_orders")
    op.drop_table("customer_orders")
    op.execute("DELETE FROM order_attributions WHERE matched_by IN ('campaign_coupon', 'campaign_window')")
    op.drop_constraint(op.f("ck_order_attributions_matched_by"), "order_attributions", type_="check")
    op.create_check_constraint(op.f("ck_order_attributions_matched_by"), "order_attributions", OLD_MATCHED)
    op.drop_index(op.f("ix_order_attributions_campaign_id"), table_name="order_attributions")
    op.drop_constraint(
        op.f("fk_order_attributions_campaign_id_campaigns"), "order_attributions", type_="foreignkey"
    )
    op.drop_column("order_attributions", "campaign_id")
    op.execute("DELETE FROM order_attributions WHERE conversation_id IS NULL")
    op.alter_column("order_attributions", "conversation_id", existing_type=sa.UUID(), nullable=False)
