"""Fake OpenAI-compatible server for tests and `make dev` (`python -m fakes.openai --port N`)."""

from .app import create_app, embed
from .script import ScriptState

__all__ = ["ScriptState", "create_app", "embed"]
