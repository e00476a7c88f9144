"""Search at 10k products: tenant-scoped GIN indexes for full text and trigrams.

The single-column GIN indexes found every tenant's matches and filtered by tenant afterwards;
on the looser full-text levels the planner preferred reading all of the tenant's rows and
evaluating the tsquery on each. With `tenant_id` inside the GIN index (btree_gin, a trusted
contrib extension) one index scan answers "this tenant's rows matching this query".

Revision ID: 14_search_speed
Revises: 13_campaigns
Create Date: 2026-11-27 10:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "14_search_speed"
down_revision: str | None = "13_campaigns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin WITH SCHEMA public")
    op.drop_index("ix_products_search_vector", table_name="products", postgresql_using="gin")
    op.drop_index(
        "ix_products_name_trgm",
        table_name="products",
        postgresql_using="gin",
        postgresql_ops={"name_text": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_products_tenant_search_vector",
        "products",
        ["tenant_id", "search_vector"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_products_tenant_name_trgm",
        "products",
        ["tenant_id", "name_text"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"name_text": "gin_trgm_ops"},
    )


def downgrade() -> None:
    op.drop_index("ix_products_tenant_name_trgm", table_name="products", postgresql_using="gin")
    op.drop_index("ix_products_tenant_search_vector", table_name="products", postgresql_using="gin")
    op.create_index(
        "ix_products_name_trgm",
        "products",
        ["name_text"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"name_text": "gin_trgm_ops"},
    )
    op.create_index(
        "ix_products_search_vector", "products", ["search_vector"], unique=False, postgresql_using="gin"
    )
    # btree_gin stays: dropping an extension other objects may use is not a downgrade's business.
