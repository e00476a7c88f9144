"""LLM providers behind one interface (the one place the OpenAI and Anthropic clients are used).

Messages are kept in one neutral shape (OpenAI-like dicts) and translated per provider:
  {"role": "user" | "assistant", "content": str, "tool_calls": [ToolCall...]}
  {"role": "tool", "tool_call_id": str, "name": str, "content": str}
Clients are created with the key they are given (tenant or platform) and never log it; retries
are left to the provider chain, which falls back instead of waiting.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]


@dataclass
class ProviderReply:
    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0


class ProviderError(Exception):
    """The provider failed (HTTP error, bad response); message never carries the key."""


class Provider(Protocol):
    name: str
    model: str
    breaker_key: str

    async def complete(
        self, system: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]], request_timeout: float
    ) -> ProviderReply: ...


def fingerprint(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def _loads(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class OpenAIProvider:
    name = "openai"

    def __init__(self, api_key: str, model: str, base_url: str | None = None) -> None:
        from openai import AsyncOpenAI

        self.model = model
        self.breaker_key = f"openai:{base_url or 'default'}:{fingerprint(api_key)}"
        self._client = AsyncOpenAI(api_key=api_key, base_url=base_url or None, max_retries=0)

    async def complete(
        self, system: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]], request_timeout: float
    ) -> ProviderReply:
        import openai

        wire: list[dict[str, Any]] = [{"role": "system", "content": system}]
        for m in messages:
            if m["role"] == "assistant" and m.get("tool_calls"):
                wire.append(
                    {
                        "role": "assistant",
                        "content": m.get("content") or None,
                        "tool_calls": [
                            {
                                "id": c.id,
                                "type": "function",
                                "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
                            }
                            for c in m["tool_calls"]
                        ],
                    }
                )
            elif m["role"] == "tool":
                wire.append({"role": "tool", "tool_call_id": m["tool_call_id"], "content": m["content"]})
            else:
                wire.append({"role": m["role"], "content": m["content"]})
        try:
            resp = await self._client.chat.completions.create(
                model=self.model,
                messages=wire,  # type: ignore[arg-type]
                tools=[{"type": "function", "function": t} for t in tools],  # type: ignore[misc]
                temperature=0.2,
                timeout=request_timeout,
            )
        except openai.APIStatusError as exc:
            raise ProviderError(f"openai status {exc.status_code}") from None
        except openai.APIError as exc:
            raise ProviderError(f"openai {type(exc).__name__}") from None
        if not resp.choices:
            raise ProviderError("openai returned no choices")
        msg = resp.choices[0].message
        calls = [
            ToolCall(c.id, c.function.name, _loads(c.function.arguments))
            for c in (msg.tool_calls or [])
            if getattr(c, "function", None) is not None
        ]
        return ProviderReply(
            text=msg.content or "",
            tool_calls=calls,
            model=resp.model,
            prompt_tokens=resp.usage.prompt_tokens if resp.usage else 0,
            completion_tokens=resp.usage.completion_tokens if resp.usage else 0,
        )


class AnthropicProvider:
    name = "anthropic"

    def __init__(self, api_key: str, model: str, base_url: str | None = None) -> None:
        from anthropic import AsyncAnthropic

        self.model = model
        self.breaker_key = f"anthropic:{base_url or 'default'}:{fingerprint(api_key)}"
        self._client = AsyncAnthropic(api_key=api_key, base_url=base_url or None, max_retries=0)

    async def complete(
        self, system: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]], request_timeout: float
    ) -> ProviderReply:
        import anthropic

        wire: list[dict[str, Any]] = []
        for m in messages:
            if m["role"] == "tool":
                block = {"type": "tool_result", "tool_use_id": m["tool_call_id"], "content": m["content"]}
                if wire and wire[-1]["role"] == "user" and isinstance(wire[-1]["content"], list):
                    wire[-1]["content"].append(block)
                else:
                    wire.append({"role": "user", "content": [block]})
            elif m["role"] == "assistant" and m.get("tool_calls"):
                blocks: list[dict[str, Any]] = []
                if m.get("content"):
                    blocks.append({"type": "text", "text": m["content"]})
                blocks += [
                    {"type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments}
                    for c in m["tool_calls"]
                ]
                wire.append({"role": "assistant", "content": blocks})
            elif wire and wire[-1]["role"] == m["role"] and isinstance(wire[-1]["content"], str):
                wire[-1]["content"] += "\n" + m["content"]  # Anthropic wants alternating roles
            else:
                wire.append({"role": m["role"], "content": m["content"]})
        if wire and wire[0]["role"] != "user":
            wire.insert(0, {"role": "user", "content": "(conversation start)"})
        try:
            resp = await self._client.messages.create(
                model=self.model,
                system=system,
                messages=wire,  # type: ignore[arg-type]
                tools=[
                    {"name": t["name"], "description": t["description"], "input_schema": t["parameters"]}
                    for t in tools
                ],  # type: ignore[misc]
                max_tokens=1024,
                timeout=request_timeout,
            )
        except anthropic.APIStatusError as exc:
            raise ProviderError(f"anthropic status {exc.status_code}") from None
        except anthropic.APIError as exc:
            raise ProviderError(f"anthropic {type(exc).__name__}") from None
        text = "".join(b.text for b in resp.content if getattr(b, "type", "") == "text")
        calls = [
            ToolCall(b.id, b.name, dict(b.input) if isinstance(b.input, dict) else {})
            for b in resp.content
            if getattr(b, "type", "") == "tool_use"
        ]
        return ProviderReply(
            text=text,
            tool_calls=calls,
            model=resp.model,
            prompt_tokens=resp.usage.input_tokens,
            completion_tokens=resp.usage.output_tokens,
        )
