"""Campaign recipients: `handed_at`, when the sender handed the row to whatsapp_service.

A row claimed (`sending`) but never handed over was certainly not sent, so a sender taking over
from a dead one puts it back at once; only rows handed over and left without an answer wait for
the grace period (their `sent` status may still come). Before this, every claimed row waited the
grace period after a crash: at 1,000 messages/s that is two seconds' worth of claims idle for a
minute.

Revision ID: i13_handed_at
Revises: 14_search_gin
Create Date: 2026-11-27 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i13_handed_at"
down_revision: str | None = "14_search_gin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("campaign_recipients", sa.Column("handed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("campaign_recipients", "handed_at")
