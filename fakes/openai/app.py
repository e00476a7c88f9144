"""An OpenAI-compatible server: `/v1/chat/completions` (tools, streaming), `/v1/embeddings`."""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
import time
import unicodedata
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from .script import ScriptState, auto_answer, fill, maybe_delay


def _fold(text: str) -> str:
    d = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in d if not unicodedata.combining(c))


def embed(text: str, dim: int = 1536) -> list[float]:
    """Deterministic: hashed words and character trigrams, so similar texts get similar vectors."""
    vec = [0.0] * dim
    words = re.findall(r"[a-z0-9]+", _fold(text))
    feats = words + [f"#{w[i : i + 3]}" for w in words for i in range(max(1, len(w) - 2))]
    for f in feats:
        h = int.from_bytes(hashlib.blake2b(f.encode(), digest_size=8).digest(), "big")
        vec[h % dim] += 1.0 if (h >> 32) & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [v / norm for v in vec]


def _last_tool_result(messages: list[dict[str, Any]]) -> str | None:
    if messages and messages[-1].get("role") == "tool":
        content = messages[-1].get("content")
        return content if isinstance(content, str) else json.dumps(content)
    return None


def _last_user(messages: list[dict[str, Any]]) -> str:
    for m in reversed(messages):
        if m.get("role") == "user":
            c = m.get("content")
            return c if isinstance(c, str) else " ".join(p.get("text", "") for p in c or [])
    return ""


def create_app(state: ScriptState | None = None) -> FastAPI:
    app = FastAPI(title="fake OpenAI")
    st = state or ScriptState()
    app.state.script = st

    @app.post("/_fake/script")
    async def script(body: dict[str, Any]) -> dict[str, int]:
        st.responses.extend(body.get("responses", []))
        return {"queued": len(st.responses)}

    @app.post("/_fake/embeddings")
    async def embeddings_behaviour(body: dict[str, Any]) -> dict[str, float]:
        """{"delay": seconds}: every embeddings call waits that long (0: answer at once)."""
        st.embedding_delay = float(body.get("delay", 0))
        return {"delay": st.embedding_delay}

    @app.post("/_fake/reset")
    async def reset() -> dict[str, bool]:
        st.responses.clear()
        st.requests.clear()
        return {"ok": True}

    @app.get("/_fake/requests")
    async def requests() -> list[dict[str, Any]]:
        return st.requests

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model", "owned_by": "fake"}]}

    @app.post("/v1/embeddings")
    async def embeddings(request: Request) -> JSONResponse:
        body = await request.json()
        st.requests.append({"path": "/v1/embeddings", "auth": request.headers.get("authorization")})
        if st.embedding_delay:
            await asyncio.sleep(st.embedding_delay)
        inputs = body.get("input")
        inputs = [inputs] if isinstance(inputs, str) else list(inputs or [])
        dim = int(body.get("dimensions") or 1536)
        vectors = [embed(t, dim) for t in inputs]
        if body.get("encoding_format") == "base64":  # what the official clients ask for
            import base64
            import struct

            encoded: list[Any] = [base64.b64encode(struct.pack(f"<{len(v)}f", *v)).decode() for v in vectors]
        else:
            encoded = vectors
        data = [{"object": "embedding", "index": i, "embedding": e} for i, e in enumerate(encoded)]
        tokens = sum(len(str(t).split()) for t in inputs)
        return JSONResponse(
            {
                "object": "list",
                "data": data,
                "model": body.get("model", "text-embedding-3-small"),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    @app.post("/v1/chat/completions", response_model=None)
    async def chat(request: Request) -> Any:
        body = await request.json()
        st.requests.append(
            {"path": "/v1/chat/completions", "auth": request.headers.get("authorization"), "body": body}
        )
        entry = st.next()
        await maybe_delay(entry)
        if entry and entry.get("error"):
            status = int(entry["error"])
            return JSONResponse(
                {"error": {"message": entry.get("message", "fake failure"), "type": "server_error"}},
                status_code=status,
            )
        messages = body.get("messages", [])
        tool_result = _last_tool_result(messages)
        message: dict[str, Any] = {"role": "assistant", "content": None}
        finish = "stop"
        if entry and entry.get("tool_calls"):
            calls = entry["tool_calls"]
        elif entry is None and body.get("tools") and tool_result is None:
            calls = [{"name": "search_products", "arguments": {"query": _last_user(messages)}}]
        else:
            calls = []
        if calls:
            message["tool_calls"] = [
                {
                    "id": f"call_{uuid.uuid4().hex[:12]}",
                    "type": "function",
                    "function": {"name": c["name"], "arguments": json.dumps(c.get("arguments", {}))},
                }
                for c in calls
            ]
            finish = "tool_calls"
        else:
            text = entry.get("text") if entry else None
            message["content"] = fill(text, tool_result) if text is not None else auto_answer(tool_result)
        model = body.get("model", "gpt-4o-mini")
        usage = {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
        cid = f"chatcmpl-{uuid.uuid4().hex[:12]}"
        if body.get("stream"):
            events = _stream(cid, model, message, finish, usage)
            return StreamingResponse(events, media_type="text/event-stream")
        return {
            "id": cid,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": usage,
        }

    return app


async def _stream(
    cid: str, model: str, message: dict[str, Any], finish: str, usage: dict[str, int]
) -> AsyncIterator[str]:
    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> str:
        payload = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }
        return f"data: {json.dumps(payload)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    if message.get("tool_calls"):
        for i, call in enumerate(message["tool_calls"]):
            yield chunk({"tool_calls": [{"index": i, **call}]})
    else:
        words = (message.get("content") or "").split(" ")
        for i, w in enumerate(words):
            yield chunk({"content": w if i == 0 else " " + w})
    yield chunk({}, finish)
    final = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": model}
    yield f"data: {json.dumps({**final, 'choices': [], 'usage': usage})}\n\n"
    yield "data: [DONE]\n\n"
