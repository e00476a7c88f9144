"""The playground: the full pipeline for a simulated customer, without a real WhatsApp number."""
