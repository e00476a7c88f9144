"""issue 11: security review findings and data retention

Revision ID: issue11_security
Revises: issue15_sales
Create Date: 2026-11-27 10:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "issue11_security"
down_revision: str | None = "issue15_sales"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Retention pruning finds old rows by age alone (the existing indexes lead with tenant_id).
    op.create_index(op.f("ix_audit_log_created_at"), "audit_log", ["created_at"])
    op.create_index(op.f("ix_agent_runs_created_at"), "agent_runs", ["created_at"])
    op.create_index(op.f("ix_analytics_terms_hour"), "analytics_terms", ["hour"])
    # A platform disable survives an app reinstall (only the platform re-enables).
    op.add_column("tenants", sa.Column("platform_disabled_at", sa.DateTime(timezone=True), nullable=True))
    # Rotated-away refresh tokens: presenting one again revokes its session.
    op.create_table(
        "auth_refresh_used",
        sa.Column("refresh_hash", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.UUID(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["auth_sessions.id"],
            name=op.f("fk_auth_refresh_used_session_id_auth_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("refresh_hash", name=op.f("pk_auth_refresh_used")),
    )
    op.create_index(op.f("ix_auth_refresh_used_session_id"), "auth_refresh_used", ["session_id"])
    # Rejected webhooks counted per source, reason and minute (not one audit row each).
    op.create_table(
        "webhook_rejections",
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=60), nullable=False),
        sa.Column("minute", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("source", "reason", "minute", name=op.f("pk_webhook_rejections")),
    )
    # Verify tokens found by a hash of their value (the handshake decrypts nothing).
    op.add_column("credentials", sa.Column("lookup_hash", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_credentials_kind_lookup_hash"), "credentials", ["kind", "lookup_hash"])
    # The BFF's role: reads `events` (replay) and LISTENs, nothing else. Roles are cluster-wide:
    # another database may have created it already (or be creating it right now).
    op.execute(
        """
        DO $$ BEGIN
            CREATE ROLE nexus_bff NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$
        """
    )
    op.execute(
        "DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO nexus_bff', current_database()); END $$"
    )
    op.execute("GRANT USAGE ON SCHEMA public TO nexus_bff")
    op.execute("GRANT SELECT ON events TO nexus_bff")


def downgrade() -> None:
    op.execute("REVOKE SELECT ON events FROM nexus_bff")
    op.execute("REVOKE USAGE ON SCHEMA public FROM nexus_bff")
    op.execute(
        "DO $$ BEGIN EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM nexus_bff', current_database()); END $$"
    )
    op.drop_index(op.f("ix_credentials_kind_lookup_hash"), table_name="credentials")
    op.drop_column("credentials", "lookup_hash")
    op.drop_table("webhook_rejections")
    op.drop_index(op.f("ix_auth_refresh_used_session_id"), table_name="auth_refresh_used")
    op.drop_table("auth_refresh_used")
    op.drop_column("tenants", "platform_disabled_at")
    op.drop_index(op.f("ix_analytics_terms_hour"), table_name="analytics_terms")
    op.drop_index(op.f("ix_agent_runs_created_at"), table_name="agent_runs")
    op.drop_index(op.f("ix_audit_log_created_at"), table_name="audit_log")
