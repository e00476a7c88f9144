"""The tenant's product-search synonym groups (edited in the dashboard)."""
