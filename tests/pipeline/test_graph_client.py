"""whatsapp_service's Graph client (aiohttp) against the fake Graph: what is retried, what is
not, and that a send whose answer timed out is reported ambiguous and never sent again."""

from __future__ import annotations

from whatsapp_service.graph import GraphClient

from fakes.meta_graph import FakeState, create_app
from tests.conftest import free_port, serve

BODY = {"messaging_product": "whatsapp", "to": "5491150000001", "type": "text", "text": {"body": "hola"}}


async def test_retries_429_and_5xx_then_answers() -> None:
    state = FakeState()
    async with serve(create_app(state)) as url:
        graph = GraphClient(f"{url}/v21.0", timeout=5.0, attempts=3)
        try:
            state.failures.extend([{"status": 429}, {"status": 503}])
            result = await graph.post("106540352242922/messages", "EAAG-x", BODY)
            assert result.ok and result.status == 200
            assert result.body["messages"][0]["id"].startswith("wamid.")
            assert [r["status"] for r in state.requests] == [429, 503, 200]
            assert len(state.sent) == 1
            assert state.requests[-1]["json"] == BODY
        finally:
            await graph.aclose()


async def test_a_graph_error_is_final_with_its_code() -> None:
    state = FakeState()
    async with serve(create_app(state)) as url:
        graph = GraphClient(f"{url}/v21.0", timeout=5.0, attempts=3)
        try:
            state.failures.append({"code": 131047})
            result = await graph.post("106540352242922/messages", "EAAG-x", BODY)
            assert not result.ok and not result.retryable and not result.ambiguous
            assert result.status == 400 and result.error_code == "131047"
            assert "Re-engagement" in result.error_message
            assert len(state.requests) == 1
        finally:
            await graph.aclose()


async def test_a_send_that_timed_out_is_ambiguous_and_not_sent_again() -> None:
    state = FakeState()
    async with serve(create_app(state)) as url:
        graph = GraphClient(f"{url}/v21.0", timeout=0.5, attempts=3)
        try:
            state.failures.append({"timeout": 2})  # Graph takes it, answers too late
            result = await graph.post("106540352242922/messages", "EAAG-x", BODY)
            assert result.ambiguous and not result.ok and result.status == 0
            assert len(state.requests) == 1  # the client did not retry it
        finally:
            await graph.aclose()


async def test_a_read_carries_its_query_parameters() -> None:
    state = FakeState()
    state.messaging_limits["106540352242922"] = "TIER_10K"
    async with serve(create_app(state)) as url:
        graph = GraphClient(f"{url}/v21.0", timeout=0.5, attempts=3)
        try:
            params = {"fields": "whatsapp_business_manager_messaging_limit", "limit": 100}
            result = await graph.get("106540352242922", "EAAG-x", params)
            assert result.ok and result.body["whatsapp_business_manager_messaging_limit"] == "TIER_10K"
        finally:
            await graph.aclose()


async def test_nothing_listening_is_retryable_never_ambiguous() -> None:
    graph = GraphClient(f"http://127.0.0.1:{free_port()}/v21.0", timeout=2.0, attempts=2)
    try:
        result = await graph.post("106540352242922/messages", "EAAG-x", BODY)
        assert result.retryable and not result.ambiguous and result.status == 0
    finally:
        await graph.aclose()
