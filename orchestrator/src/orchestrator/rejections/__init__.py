"""Rejected unauthenticated requests (webhooks with a bad signature), counted, not stored one by one."""
