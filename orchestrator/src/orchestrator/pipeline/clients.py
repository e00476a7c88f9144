"""HTTP clients for agent_service and whatsapp_service (one pooled client each per replica)."""

from __future__ import annotations

import httpx
from nexus_common.http import make_client

from ..runtime import Runtime


def agent_client(rt: Runtime) -> httpx.AsyncClient:
    client = rt.agent_client
    if client is None or client.is_closed:
        s = rt.settings
        client = make_client(
            str(s.agent_service_url).rstrip("/"),
            timeout=s.nexus_agent_timeout_seconds,
            internal_token=s.internal_api_token.get_secret_value(),
        )
        rt.agent_client = client
    return client


def whatsapp_client(rt: Runtime) -> httpx.AsyncClient:
    client = rt.whatsapp_client
    if client is None or client.is_closed:
        s = rt.settings
        # Above whatsapp_service's own Graph timeout × retries, so its answer arrives first.
        client = make_client(
            str(s.whatsapp_service_url).rstrip("/"),
            timeout=60.0,
            internal_token=s.internal_api_token.get_secret_value(),
        )
        rt.whatsapp_client = client
    return client


async def close_clients(rt: Runtime) -> None:
    clients = [rt.agent_client, rt.whatsapp_client]
    rt.agent_client = rt.whatsapp_client = None
    for client in clients:
        if client is not None:
            await client.aclose()
