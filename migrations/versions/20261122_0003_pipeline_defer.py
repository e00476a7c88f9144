"""pipeline: defer procrastinate jobs from inside the caller's transaction

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 00:00:00

The webhook's raw event and its job (and a turn's outbox rows and their send job) must commit
together, so the orchestrator inserts jobs with its own SQLAlchemy connection. procrastinate's
triggers name their tables without a schema, so the insert runs in a function that pins its
search_path; `ON CONFLICT DO NOTHING` makes a taken queueing lock a no-op.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION procrastinate.nexus_defer_job(
            p_task text, p_lock text, p_queueing_lock text, p_args jsonb,
            p_scheduled_at timestamptz, p_priority integer
        ) RETURNS bigint
        LANGUAGE sql
        SET search_path = procrastinate, pg_catalog
        AS $$
            INSERT INTO procrastinate_jobs
                (queue_name, task_name, priority, lock, queueing_lock, args, scheduled_at)
            VALUES ('default', p_task, p_priority, p_lock, p_queueing_lock, p_args, p_scheduled_at)
            ON CONFLICT DO NOTHING
            RETURNING id
        $$
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION IF EXISTS procrastinate.nexus_defer_job(text, text, text, jsonb, timestamptz, integer)"
    )
