"""Platform provisioning (super-admin): tenants and their channel accounts (DESIGN.md §3)."""
