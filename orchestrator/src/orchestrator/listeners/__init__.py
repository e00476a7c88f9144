"""Two listeners: the public API and the internal one (service-to-service), on separate ports."""
