"""Every task name and lock key of the project, in one place.

Task names are stored in procrastinate's jobs table: a job queued before an upgrade runs under
the name it was queued with, so a name here never changes (add an alias instead).
"""

from __future__ import annotations

from typing import TypedDict

# pipeline
INGEST = "pipeline:ingest"
TURN = "pipeline:turn"
SEND = "pipeline:send"
# conversations (the `staff:` names predate the conversation domain)
SEND_CONVERSATION_MAIL = "staff:send_conversation_mail"
RESUME_EXPIRED_PAUSES = "staff:resume_expired_pauses"
# auth
SEND_PASSWORD_RESET = "auth:send_password_reset"  # noqa: S105 - a task name
# retention: one prune job per table (`staff:prune_events` predates the retention domain)
PRUNE_EVENTS = "staff:prune_events"
PRUNE_INBOUND_EVENTS = "retention:prune_inbound_events"
PRUNE_AUDIT_LOG = "retention:prune_audit_log"
PRUNE_AGENT_RUNS = "retention:prune_agent_runs"
PRUNE_ANALYTICS_TERMS = "retention:prune_analytics_terms"
PRUNE_WEBHOOK_REJECTIONS = "retention:prune_webhook_rejections"
# Tienda Nube
TN_PRODUCTSALL = "tiendanube:productsall"
TN_PROCESS_EVENT = "tiendanube:process_event"
TN_NIGHTLY_SYNC = "tiendanube:nightly_sync"
TN_SWEEP = "tiendanube:sweep"
# reaching out: templates, abandoned-checkout recovery
TEMPLATES_APPLY_WEBHOOK = "templates:apply_webhook"
RECOVERY_POLL = "recovery:poll_store"
RECOVERY_SEND_DUE = "recovery:send_due"
RECOVERY_TICK = "recovery:tick"
# campaigns
CAMPAIGNS_NOTIFY_PAUSED = "campaigns:notify_paused"


class Locks(TypedDict):
    lock: str
    queueing_lock: str


def conversation_key(tenant_id: object, channel: str, contact_key: str) -> str:
    """The per-contact ingest lock: every variant of one person's id maps to one key."""
    return f"conv:{tenant_id}:{channel}:{contact_key}"


def turn_locks(conversation_id: object) -> Locks:
    """One turn at a time per conversation, at most one pending."""
    return {"lock": f"turn:{conversation_id}", "queueing_lock": f"turnq:{conversation_id}"}


def send_locks(conversation_id: object) -> Locks:
    """One outbox drain at a time per conversation, at most one pending."""
    return {"lock": f"send:{conversation_id}", "queueing_lock": f"sendq:{conversation_id}"}


def tiendanube_event_lock(tenant_id: object, resource: str) -> str:
    """Events about one resource run one at a time (a product update never races its delete)."""
    return f"tnevents:{tenant_id}:{resource}"


def recovery_poll_locks(tenant_id: object) -> Locks:
    """A store's recovery jobs (poll, send) run one at a time (a send batch keeps a few checks
    in flight, all paced by tiendanube_service); at most one poll pending."""
    return {"lock": f"recovery:{tenant_id}", "queueing_lock": f"recovery-pollq:{tenant_id}"}


def recovery_send_locks(tenant_id: object) -> Locks:
    """Shares the store's recovery lock with its poll; at most one send pending."""
    return {"lock": f"recovery:{tenant_id}", "queueing_lock": f"recovery-sendq:{tenant_id}"}
