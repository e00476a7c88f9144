"""Tienda Nube: app install, catalog mirror, store webhooks, privacy requests, customers' orders."""
