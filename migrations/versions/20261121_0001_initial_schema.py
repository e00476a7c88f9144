"""initial schema: every table of DESIGN.md §4, plus unaccent/pg_trgm for catalog search

Revision ID: 0001
Revises:
Create Date: 2026-11-21 23:53:25.336851
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# unaccent() is STABLE, so Postgres refuses it inside a generated column; this IMMUTABLE wrapper
# with an explicit dictionary is the documented way to use it there (products.search_vector).
UNACCENT_FN = """
CREATE OR REPLACE FUNCTION nexus_unaccent(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$
"""


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public")
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
    op.execute(UNACCENT_FN)
    op.create_table(
        "tenants",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="active", nullable=False),
        sa.Column("tiendanube_store_id", sa.BigInteger(), nullable=True),
        sa.Column("settings", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('active', 'disabled')", name=op.f("ck_tenants_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("tiendanube_store_id", name=op.f("uq_tenants_tiendanube_store_id")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=True),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=80), nullable=False),
        sa.Column("level", sa.String(length=10), server_default="info", nullable=False),
        sa.Column("target_type", sa.String(length=40), nullable=True),
        sa.Column("target_id", sa.String(length=80), nullable=True),
        sa.Column("conversation_id", sa.UUID(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("level IN ('debug', 'info', 'warning', 'error')", name=op.f("ck_audit_log_level")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_audit_log_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_conversation_id"), "audit_log", ["conversation_id"], unique=False)
    op.create_index(
        op.f("ix_audit_log_tenant_id_action_created_at"),
        "audit_log",
        ["tenant_id", "action", "created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_audit_log_tenant_id_created_at_id"),
        "audit_log",
        ["tenant_id", "created_at", "id"],
        unique=False,
    )
    op.create_table(
        "channel_accounts",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("enabled", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("settings", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "channel IN ('whatsapp', 'instagram', 'messenger')", name=op.f("ck_channel_accounts_channel")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_channel_accounts_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_accounts")),
        sa.UniqueConstraint("channel", "external_id", name=op.f("uq_channel_accounts_channel_external_id")),
    )
    op.create_index(op.f("ix_channel_accounts_tenant_id"), "channel_accounts", ["tenant_id"], unique=False)
    op.create_table(
        "credentials",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=128), server_default="", nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("hint", sa.String(length=8), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_credentials_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials")),
        sa.UniqueConstraint("tenant_id", "kind", "scope", name=op.f("uq_credentials_tenant_id_kind_scope")),
    )
    op.create_index(op.f("ix_credentials_tenant_id"), "credentials", ["tenant_id"], unique=False)
    op.create_table(
        "customers",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("phone_number", sa.String(length=20), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("locale", sa.String(length=10), nullable=True),
        sa.Column("tiendanube_customer_id", sa.BigInteger(), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_customers_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
    )
    op.create_index(op.f("ix_customers_tenant_id"), "customers", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_customers_tenant_id_email"), "customers", ["tenant_id", "email"], unique=False)
    op.create_index(
        op.f("ix_customers_tenant_id_phone_number"), "customers", ["tenant_id", "phone_number"], unique=False
    )
    op.create_index(
        op.f("ix_customers_tenant_id_tiendanube_customer_id"),
        "customers",
        ["tenant_id", "tiendanube_customer_id"],
        unique=False,
    )
    op.create_table(
        "inbound_events",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("state", sa.String(length=12), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "source IN ('whatsapp', 'meta', 'tiendanube')", name=op.f("ck_inbound_events_source")
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'processing', 'done', 'failed', 'ignored')",
            name=op.f("ck_inbound_events_state"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_inbound_events_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_events")),
        sa.UniqueConstraint("source", "body_sha256", name=op.f("uq_inbound_events_source_body_sha256")),
    )
    op.create_index(
        op.f("ix_inbound_events_state_received_at"), "inbound_events", ["state", "received_at"], unique=False
    )
    op.create_index(op.f("ix_inbound_events_tenant_id"), "inbound_events", ["tenant_id"], unique=False)
    op.create_table(
        "products",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("external_id", sa.BigInteger(), nullable=False),
        sa.Column("handle", sa.String(length=300), nullable=True),
        sa.Column("name", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column(
            "description", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("name_text", sa.Text(), server_default="", nullable=False),
        sa.Column("search_text", sa.Text(), server_default="", nullable=False),
        sa.Column("categories", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("skus", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("variants", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False),
        sa.Column("price", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("promotional_price", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("image_url", sa.Text(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("published", sa.Boolean(), server_default="true", nullable=False),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(
                "setweight(to_tsvector('spanish'::regconfig, nexus_unaccent(coalesce(name_text, ''))), 'A') || setweight(to_tsvector('portuguese'::regconfig, nexus_unaccent(coalesce(name_text, ''))), 'A') || setweight(to_tsvector('spanish'::regconfig, nexus_unaccent(coalesce(search_text, ''))), 'B') || setweight(to_tsvector('portuguese'::regconfig, nexus_unaccent(coalesce(search_text, ''))), 'B')",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_products_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("tenant_id", "external_id", name=op.f("uq_products_tenant_id_external_id")),
    )
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
    op.create_index("ix_products_skus", "products", ["skus"], unique=False, postgresql_using="gin")
    op.create_index(op.f("ix_products_tenant_id"), "products", ["tenant_id"], unique=False)
    op.create_index(
        op.f("ix_products_tenant_id_published"), "products", ["tenant_id", "published"], unique=False
    )
    op.create_table(
        "users",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("role IN ('owner', 'admin', 'agent', 'viewer')", name=op.f("ck_users_role")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_users_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_index(op.f("ix_users_tenant_id"), "users", ["tenant_id"], unique=False)
    op.create_table(
        "channel_identities",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "channel IN ('whatsapp', 'instagram', 'messenger')", name=op.f("ck_channel_identities_channel")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_channel_identities_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_channel_identities_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_identities")),
        sa.UniqueConstraint(
            "tenant_id",
            "channel",
            "external_id",
            name=op.f("uq_channel_identities_tenant_id_channel_external_id"),
        ),
    )
    op.create_index(
        op.f("ix_channel_identities_customer_id"), "channel_identities", ["customer_id"], unique=False
    )
    op.create_index(
        op.f("ix_channel_identities_tenant_id"), "channel_identities", ["tenant_id"], unique=False
    )
    op.create_table(
        "chat_conversations",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("customer_id", sa.UUID(), nullable=False),
        sa.Column("channel_account_id", sa.UUID(), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="open", nullable=False),
        sa.Column("ai_paused", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("paused_by", sa.String(length=100), nullable=True),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handoff_reason", sa.String(length=200), nullable=True),
        sa.Column("assignee_user_id", sa.UUID(), nullable=True),
        sa.Column("unread_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_inbound_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "channel IN ('whatsapp', 'instagram', 'messenger')", name=op.f("ck_chat_conversations_channel")
        ),
        sa.CheckConstraint(
            "status IN ('open', 'pending_human', 'resolved')", name=op.f("ck_chat_conversations_status")
        ),
        sa.ForeignKeyConstraint(
            ["assignee_user_id"],
            ["users.id"],
            name=op.f("fk_chat_conversations_assignee_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["channel_account_id"],
            ["channel_accounts.id"],
            name=op.f("fk_chat_conversations_channel_account_id_channel_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_chat_conversations_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_chat_conversations_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_conversations")),
    )
    op.create_index(
        op.f("ix_chat_conversations_assignee_user_id"),
        "chat_conversations",
        ["assignee_user_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_chat_conversations_channel_account_id"),
        "chat_conversations",
        ["channel_account_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_chat_conversations_customer_id"), "chat_conversations", ["customer_id"], unique=False
    )
    op.create_index(
        op.f("ix_chat_conversations_tenant_id"), "chat_conversations", ["tenant_id"], unique=False
    )
    op.create_index(
        op.f("ix_chat_conversations_tenant_id_last_message_at"),
        "chat_conversations",
        ["tenant_id", "last_message_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_chat_conversations_tenant_id_status_last_message_at"),
        "chat_conversations",
        ["tenant_id", "status", "last_message_at"],
        unique=False,
    )
    op.create_index(
        "uq_chat_conversations_live",
        "chat_conversations",
        ["tenant_id", "customer_id", "channel"],
        unique=True,
        postgresql_where=sa.text("status <> 'resolved'"),
    )
    op.create_table(
        "agent_runs",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("conversation_id", sa.UUID(), nullable=False),
        sa.Column("trigger_message_id", sa.UUID(), nullable=True),
        sa.Column("outcome", sa.String(length=12), server_default="running", nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=True),
        sa.Column("model", sa.String(length=100), nullable=True),
        sa.Column("steps", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), server_default="0", nullable=False),
        sa.Column("completion_tokens", sa.Integer(), server_default="0", nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("fallback_used", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('running', 'answered', 'handoff', 'fallback', 'skipped', 'failed')",
            name=op.f("ck_agent_runs_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["chat_conversations.id"],
            name=op.f("fk_agent_runs_conversation_id_chat_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_agent_runs_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_runs")),
    )
    op.create_index(
        op.f("ix_agent_runs_conversation_id_created_at"),
        "agent_runs",
        ["conversation_id", "created_at"],
        unique=False,
    )
    op.create_index(op.f("ix_agent_runs_tenant_id"), "agent_runs", ["tenant_id"], unique=False)
    op.create_index(
        op.f("ix_agent_runs_tenant_id_created_at"), "agent_runs", ["tenant_id", "created_at"], unique=False
    )
    op.create_table(
        "chat_messages",
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("conversation_id", sa.UUID(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("sender", sa.String(length=10), nullable=False),
        sa.Column("provider_message_id", sa.String(length=128), nullable=True),
        sa.Column("type", sa.String(length=20), server_default="text", nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("media", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("error_code", sa.String(length=32), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("agent_run_id", sa.UUID(), nullable=True),
        sa.Column("sent_by_user_id", sa.UUID(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider_timestamp", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "channel IN ('whatsapp', 'instagram', 'messenger')", name=op.f("ck_chat_messages_channel")
        ),
        sa.CheckConstraint("direction IN ('inbound', 'outbound')", name=op.f("ck_chat_messages_direction")),
        sa.CheckConstraint(
            "sender IN ('customer', 'ai', 'human', 'system')", name=op.f("ck_chat_messages_sender")
        ),
        sa.CheckConstraint(
            "status IN ('received', 'queued', 'sending', 'sent', 'delivered', 'read', 'failed')",
            name=op.f("ck_chat_messages_status"),
        ),
        sa.ForeignKeyConstraint(
            ["agent_run_id"],
            ["agent_runs.id"],
            name=op.f("fk_chat_messages_agent_run_id_agent_runs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["chat_conversations.id"],
            name=op.f("fk_chat_messages_conversation_id_chat_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sent_by_user_id"],
            ["users.id"],
            name=op.f("fk_chat_messages_sent_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_chat_messages_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_messages")),
        sa.UniqueConstraint(
            "channel", "provider_message_id", name=op.f("uq_chat_messages_channel_provider_message_id")
        ),
    )
    op.create_index(
        op.f("ix_chat_messages_conversation_id_created_at"),
        "chat_messages",
        ["conversation_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_chat_messages_outbox",
        "chat_messages",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("direction = 'outbound' AND status IN ('queued', 'sending')"),
    )
    op.create_index(op.f("ix_chat_messages_tenant_id"), "chat_messages", ["tenant_id"], unique=False)
    op.create_index(
        op.f("ix_chat_messages_tenant_id_created_at"),
        "chat_messages",
        ["tenant_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_events_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index(op.f("ix_events_tenant_id_id"), "events", ["tenant_id", "id"], unique=False)
    op.create_index(op.f("ix_events_created_at"), "events", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_table("events")
    op.drop_index(op.f("ix_chat_messages_tenant_id_created_at"), table_name="chat_messages")
    op.drop_index(op.f("ix_chat_messages_tenant_id"), table_name="chat_messages")
    op.drop_index(
        "ix_chat_messages_outbox",
        table_name="chat_messages",
        postgresql_where=sa.text("direction = 'outbound' AND status IN ('queued', 'sending')"),
    )
    op.drop_index(op.f("ix_chat_messages_conversation_id_created_at"), table_name="chat_messages")
    op.drop_table("chat_messages")
    op.drop_index(op.f("ix_agent_runs_tenant_id_created_at"), table_name="agent_runs")
    op.drop_index(op.f("ix_agent_runs_tenant_id"), table_name="agent_runs")
    op.drop_index(op.f("ix_agent_runs_conversation_id_created_at"), table_name="agent_runs")
    op.drop_table("agent_runs")
    op.drop_index(
        "uq_chat_conversations_live",
        table_name="chat_conversations",
        postgresql_where=sa.text("status <> 'resolved'"),
    )
    op.drop_index(
        op.f("ix_chat_conversations_tenant_id_status_last_message_at"), table_name="chat_conversations"
    )
    op.drop_index(op.f("ix_chat_conversations_tenant_id_last_message_at"), table_name="chat_conversations")
    op.drop_index(op.f("ix_chat_conversations_tenant_id"), table_name="chat_conversations")
    op.drop_index(op.f("ix_chat_conversations_customer_id"), table_name="chat_conversations")
    op.drop_index(op.f("ix_chat_conversations_channel_account_id"), table_name="chat_conversations")
    op.drop_index(op.f("ix_chat_conversations_assignee_user_id"), table_name="chat_conversations")
    op.drop_table("chat_conversations")
    op.drop_index(op.f("ix_channel_identities_tenant_id"), table_name="channel_identities")
    op.drop_index(op.f("ix_channel_identities_customer_id"), table_name="channel_identities")
    op.drop_table("channel_identities")
    op.drop_index(op.f("ix_users_tenant_id"), table_name="users")
    op.drop_table("users")
    op.drop_index(op.f("ix_products_tenant_id_published"), table_name="products")
    op.drop_index(op.f("ix_products_tenant_id"), table_name="products")
    op.drop_index("ix_products_skus", table_name="products", postgresql_using="gin")
    op.drop_index("ix_products_search_vector", table_name="products", postgresql_using="gin")
    op.drop_index(
        "ix_products_name_trgm",
        table_name="products",
        postgresql_using="gin",
        postgresql_ops={"name_text": "gin_trgm_ops"},
    )
    op.drop_table("products")
    op.drop_index(op.f("ix_inbound_events_tenant_id"), table_name="inbound_events")
    op.drop_index(op.f("ix_inbound_events_state_received_at"), table_name="inbound_events")
    op.drop_table("inbound_events")
    op.drop_index(op.f("ix_customers_tenant_id_tiendanube_customer_id"), table_name="customers")
    op.drop_index(op.f("ix_customers_tenant_id_phone_number"), table_name="customers")
    op.drop_index(op.f("ix_customers_tenant_id_email"), table_name="customers")
    op.drop_index(op.f("ix_customers_tenant_id"), table_name="customers")
    op.drop_table("customers")
    op.drop_index(op.f("ix_credentials_tenant_id"), table_name="credentials")
    op.drop_table("credentials")
    op.drop_index(op.f("ix_channel_accounts_tenant_id"), table_name="channel_accounts")
    op.drop_table("channel_accounts")
    op.drop_index(op.f("ix_audit_log_tenant_id_created_at_id"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_tenant_id_action_created_at"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_conversation_id"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("tenants")
    op.execute("DROP FUNCTION IF EXISTS nexus_unaccent(text)")
