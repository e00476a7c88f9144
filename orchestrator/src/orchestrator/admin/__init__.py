"""The admin action gateway: `POST /api/v1/admin/actions/{action}` (whitelisted actions, each
with a least role)."""
