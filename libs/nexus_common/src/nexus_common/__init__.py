"""Infrastructure shared by every Nexus service. Never imports a service."""
