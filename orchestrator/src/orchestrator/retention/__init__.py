"""Data retention: every growing table has a retention setting and an hourly prune job."""
