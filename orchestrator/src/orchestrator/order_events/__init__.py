"""Tienda Nube `order/*` webhooks, dispatched to every step that cares (a small flow).

Each step takes the event and returns a short outcome; they run in order, each in its own
transactions, and a step that raises makes the event retried (steps are idempotent).
Steps today: the order-status notification (and recovery credit). Revenue attribution joins here.
"""
