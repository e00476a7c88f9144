"""Messages Nexus sends first: order-status updates and the settings that drive them (and cart
recovery's). Every one is written through `proactive.queue_proactive`: a ledger row unique per
(tenant, dedupe key) and an outbox message, in one transaction."""
