"""Consent per customer and channel: who may receive messages Nexus sends first.

`service.can_send(session, tenant_id, customer_id, kind="marketing"|"utility")` is the one
question every proactive path asks (order updates, cart recovery, campaigns, and the outbox as
the last line). Marketing needs an opt-in; utility goes to anyone who has not opted out.
"""
