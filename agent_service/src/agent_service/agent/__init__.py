"""The assistant: providers behind one interface, tools over the orchestrator API, guardrails."""
