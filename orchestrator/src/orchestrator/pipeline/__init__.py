"""The message pipeline: webhooks in, ordered turns, the outbox out (DESIGN.md §5).

webhooks (verify → store → enqueue → 200) → tasks.ingest (per-conversation lock) → tasks.turn
(debounced, per-conversation) → tasks.send (the conversation's outbox, in order).
"""
