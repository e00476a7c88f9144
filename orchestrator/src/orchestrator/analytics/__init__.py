"""Per-tenant analytics from trigger-maintained rollups, cached in Redis."""
