"""The fake LLM servers speak the wire formats the official clients expect (tools, streaming)."""

from __future__ import annotations

import anthropic
import openai

from fakes.anthropic import create_app as fake_anthropic
from fakes.openai import create_app as fake_openai
from fakes.openai import embed
from tests.conftest import serve

TOOLS = [{"type": "function", "function": {"name": "search_products", "parameters": {"type": "object"}}}]


async def test_openai_fake_tools_streaming_errors_and_embeddings() -> None:
    app = fake_openai()
    async with serve(app, lifespan="off") as url:
        client = openai.AsyncOpenAI(
            api_key="sk-test-fake-key-000000000000", base_url=f"{url}/v1", max_retries=0
        )
        app.state.script.responses.extend(
            [{"tool_calls": [{"name": "search_products", "arguments": {"query": "remera"}}]}, {"error": 503}]
        )
        stream = await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "remera"}], tools=TOOLS, stream=True
        )
        calls = [
            c.choices[0].delta.tool_calls async for c in stream if c.choices and c.choices[0].delta.tool_calls
        ]
        assert calls and calls[0][0].function.name == "search_products"
        try:
            await client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
            raise AssertionError("expected a 503")
        except openai.APIStatusError as exc:
            assert exc.status_code == 503
        stream = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hola"}], stream=True
        )
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        assert text.startswith("¡Hola!")
        emb = await client.embeddings.create(
            model="text-embedding-3-small", input=["remera negra", "remera negra"]
        )
        assert emb.data[0].embedding == emb.data[1].embedding == embed("remera negra")
        assert len(emb.data[0].embedding) == 1536


async def test_anthropic_fake_tool_use() -> None:
    app = fake_anthropic()
    async with serve(app, lifespan="off") as url:
        client = anthropic.AsyncAnthropic(api_key="sk-ant-test-0000000000", base_url=url, max_retries=0)
        msg = await client.messages.create(
            model="claude-x",
            max_tokens=100,
            messages=[{"role": "user", "content": "zapatillas"}],
            tools=[{"name": "search_products", "input_schema": {"type": "object"}}],
        )
        assert msg.stop_reason == "tool_use" and msg.content[0].type == "tool_use"
        assert msg.content[0].input == {"query": "zapatillas"}
        assert "sk-ant-test-0000000000" in app.state.script.requests[0]["auth"]
