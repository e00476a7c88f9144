"""Fake Anthropic-compatible server for tests and `make dev` (`python -m fakes.anthropic --port N`)."""

from .app import create_app

__all__ = ["create_app"]
