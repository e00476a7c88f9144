"""Internal API for agent_service: thinking-log streaming and per-tenant LLM keys."""
