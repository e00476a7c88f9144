"""Store order events, fanned out to the domains that follow orders (below every domain)."""
