"""The audit and event log, read back for staff (sanitized when it was written)."""
