"""issue 11: security review findings and data retention

Revision ID: issue11_security
Revises: 0006
Create Date: 2026-11-27 10:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "issue11_security"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Retention pruning finds old rows by age alone (the existing indexes lead with tenant_id).
    op.create_index(op.f("ix_audit_log_created_at"), "audit_log", ["created_at"])
    op.create_index(op.f("ix_agent_runs_created_at"), "agent_runs", ["created_at"])
    op.create_index(op.f("ix_analytics_terms_hour"), "analytics_terms", ["hour"])
    # A platform disable survives an app reinstall (only the platform re-enables).
    op.add_column("tenants", sa.Column("platform_disabled_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("tenants", "platform_disabled_at")
    op.drop_index(op.f("ix_analytics_terms_hour"), table_name="analytics_terms")
    op.drop_index(op.f("ix_agent_runs_created_at"), table_name="agent_runs")
    op.drop_index(op.f("ix_audit_log_created_at"), table_name="audit_log")
