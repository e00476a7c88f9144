"""Third-party platforms the orchestrator integrates with (Tienda Nube)."""
