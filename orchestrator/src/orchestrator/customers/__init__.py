"""A customer as staff see it (identities, masked contact data, orders)."""
