"""job queue: procrastinate's schema, in its own Postgres schema

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 00:05:00

procrastinate is pinned (pyproject); this revision applies the schema.sql of that version.
Upgrading procrastinate means a new revision that applies its sql/migrations files in the same
schema.
"""

from collections.abc import Sequence

from alembic import op
from procrastinate.schema import SchemaManager
from sqlalchemy.util import await_only

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The schema file holds many statements (DO blocks, functions); asyncpg runs such a script
    # only through its simple-query path, so it goes to the driver connection directly.
    raw = op.get_bind().connection.driver_connection
    await_only(
        raw.execute(
            "CREATE SCHEMA IF NOT EXISTS procrastinate;\n"
            "SET LOCAL search_path TO procrastinate;\n"
            + SchemaManager.get_schema()
            + "\nSET LOCAL search_path TO public;"
        )
    )


def downgrade() -> None:
    op.execute("DROP SCHEMA IF EXISTS procrastinate CASCADE")
