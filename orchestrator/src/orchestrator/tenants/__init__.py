"""Tenant-scoped staff endpoints: the tenant, agent settings, channels, credentials and users."""
