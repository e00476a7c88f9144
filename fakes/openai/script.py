"""Scripting shared by the fake LLM servers: per-test queues of replies, errors and delays.

A test (or `make dev`) pushes entries with `POST /_fake/script {"responses": [...]}`; each model
call pops one. An entry is any of:
  {"text": "..."}                                  a final answer ({{first_price}}, {{first_url}},
                                                   {{first_name}} are filled from the last tool result)
  {"tool_calls": [{"name": "...", "arguments": {...}}]}
  {"error": 500, "message": "..."}                 an HTTP error in the provider's format
  {"delay": 2.5, ...}                              sleep first (slowness, timeouts)
With the queue empty the fake answers by itself: it calls `search_products` with the customer's
words, then answers with the first product's real name, price and link.
Every request is recorded (`GET /_fake/requests`) with the bearer/x-api-key it carried, so tests
can prove which key was used.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ScriptState:
    responses: deque[dict[str, Any]] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)
    # Seconds every /v1/embeddings call waits before answering (a hanging provider).
    embedding_delay: float = 0.0

    def next(self) -> dict[str, Any] | None:
        return self.responses.popleft() if self.responses else None


async def maybe_delay(entry: dict[str, Any] | None) -> None:
    if entry and entry.get("delay"):
        await asyncio.sleep(float(entry["delay"]))


def first_item(tool_result: str | None) -> dict[str, Any] | None:
    if not tool_result:
        return None
    try:
        data = json.loads(tool_result)
    except ValueError:
        return None
    items = data.get("items") if isinstance(data, dict) else None
    if isinstance(items, list) and items and isinstance(items[0], dict):
        return items[0]
    return data if isinstance(data, dict) and "price" in data else None


def fill(text: str, tool_result: str | None) -> str:
    item = first_item(tool_result) or {}
    return (
        text.replace("{{first_price}}", str(item.get("price", "")))
        .replace("{{first_url}}", str(item.get("url", "")))
        .replace("{{first_name}}", str(item.get("name", "")))
    )


def auto_answer(tool_result: str | None) -> str:
    item = first_item(tool_result)
    if item is None:
        return "¡Hola! ¿En qué te puedo ayudar?"
    return f"Tenemos {item.get('name')} a $ {item.get('price')}. Podés verlo acá: {item.get('url')}"
