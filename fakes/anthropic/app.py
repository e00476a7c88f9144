"""An Anthropic-compatible server: `/v1/messages` with tools (same scripting as the OpenAI fake)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from ..openai.script import ScriptState, auto_answer, fill, maybe_delay


def _last_tool_result(messages: list[dict[str, Any]]) -> str | None:
    if not messages or messages[-1].get("role") != "user":
        return None
    content = messages[-1].get("content")
    if isinstance(content, list):
        for block in reversed(content):
            if isinstance(block, dict) and block.get("type") == "tool_result":
                c = block.get("content")
                if isinstance(c, list):
                    return " ".join(b.get("text", "") for b in c if isinstance(b, dict))
                return c if isinstance(c, str) else json.dumps(c)
    return None


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for m in reversed(messages):
        if m.get("role") != "user":
            continue
        c = m.get("content")
        if isinstance(c, str):
            return c
        texts = [b.get("text", "") for b in c or [] if isinstance(b, dict) and b.get("type") == "text"]
        if texts:
            return " ".join(texts)
    return ""


def create_app(state: ScriptState | None = None) -> FastAPI:
    app = FastAPI(title="fake Anthropic")
    st = state or ScriptState()
    app.state.script = st

    @app.post("/_fake/script")
    async def script(body: dict[str, Any]) -> dict[str, int]:
        st.responses.extend(body.get("responses", []))
        return {"queued": len(st.responses)}

    @app.post("/_fake/reset")
    async def reset() -> dict[str, bool]:
        st.responses.clear()
        st.requests.clear()
        return {"ok": True}

    @app.get("/_fake/requests")
    async def requests() -> list[dict[str, Any]]:
        return st.requests

    @app.post("/v1/messages")
    async def messages(request: Request) -> JSONResponse:
        body = await request.json()
        st.requests.append(
            {
                "path": "/v1/messages",
                "auth": request.headers.get("x-api-key") or request.headers.get("authorization"),
                "body": body,
            }
        )
        entry = st.next()
        await maybe_delay(entry)
        if entry and entry.get("error"):
            return JSONResponse(
                {"type": "error", "error": {"type": "api_error", "message": entry.get("message", "fake")}},
                status_code=int(entry["error"]),
            )
        msgs = body.get("messages", [])
        tool_result = _last_tool_result(msgs)
        if entry and entry.get("tool_calls"):
            calls = entry["tool_calls"]
        elif entry is None and body.get("tools") and tool_result is None:
            calls = [{"name": "search_products", "arguments": {"query": _last_user_text(msgs)}}]
        else:
            calls = []
        content: list[dict[str, Any]]
        if calls:
            content = [
                {
                    "type": "tool_use",
                    "id": f"toolu_{uuid.uuid4().hex[:12]}",
                    "name": c["name"],
                    "input": c.get("arguments", {}),
                }
                for c in calls
            ]
            stop = "tool_use"
        else:
            text = entry.get("text") if entry else None
            reply = fill(text, tool_result) if text else auto_answer(tool_result)
            content = [{"type": "text", "text": reply}]
            stop = "end_turn"
        return JSONResponse(
            {
                "id": f"msg_{uuid.uuid4().hex[:12]}",
                "type": "message",
                "role": "assistant",
                "model": body.get("model", "claude-fake"),
                "content": content,
                "stop_reason": stop,
                "stop_sequence": None,
                "usage": {"input_tokens": 90, "output_tokens": 18},
            }
        )

    return app
