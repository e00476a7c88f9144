"""The tenant's staff users: list, invite, change, remove; created by the super-admin."""
