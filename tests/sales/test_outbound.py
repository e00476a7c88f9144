"""How the outbox sends a list message and a checkout link on each channel (pure functions), and
that whatsapp_service turns them into Meta's interactive `list` and `cta_url` bodies."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from orchestrator.models import ChatConversation, ChatMessage
from orchestrator.pipeline.accounts import Account
from orchestrator.pipeline.outbox import build_body
from whatsapp_service.api import SendRequest, whatsapp_body

from fakes.meta_graph.app import interactive_problem

NOW = datetime.now(UTC)
ROWS = [{"id": "p:1", "title": "Remera Aurora", "description": "$ 15000.00"}, {"id": "p:2", "title": "Buzo"}]
CTA = {"display_text": "Pagar ahora", "url": "https://tienda.example/checkout/1"}


def _msg(channel: str, payload: dict) -> tuple[ChatMessage, ChatConversation, Account]:  # type: ignore[type-arg]
    conv = ChatConversation(id=uuid.uuid4(), channel=channel, last_inbound_at=NOW)
    msg = ChatMessage(id=uuid.uuid4(), type="interactive", text="Elegí uno", payload=payload)
    account = Account(uuid.uuid4(), uuid.uuid4(), channel, "123", True, {})
    return msg, conv, account


@pytest.mark.parametrize("channel", ["whatsapp", "instagram"])
def test_list_and_link_per_channel(channel: str) -> None:
    listing = build_body(*_msg(channel, {"list": {"button": "Ver productos", "rows": ROWS}}), "549", NOW)
    link = build_body(*_msg(channel, {"cta_url": CTA}), "549", NOW)
    if channel == "whatsapp":
        assert listing["type"] == "list" and listing["list"]["sections"][0]["rows"] == ROWS
        assert link["type"] == "cta_url" and link["cta_url"] == CTA
        for body in (listing, link):
            graph = whatsapp_body(SendRequest.model_validate(body))
            assert graph["type"] == "interactive" and interactive_problem(graph["interactive"]) is None
        assert whatsapp_body(SendRequest.model_validate(link))["interactive"]["action"] == {
            "name": "cta_url",
            "parameters": CTA,
        }
    else:  # no interactive messages there: numbered rows, the URL written out
        assert listing == {
            **listing,
            "type": "text",
            "text": "Elegí uno\n1. Remera Aurora — $ 15000.00\n2. Buzo",
        }
        assert link["type"] == "text" and link["text"].endswith("\nhttps://tienda.example/checkout/1")


def test_cta_url_needs_https_and_short_text() -> None:
    base = {"account_id": "123", "to": "549", "type": "cta_url", "text": "Pagá acá"}
    with pytest.raises(ValueError, match="https"):
        SendRequest.model_validate({**base, "cta_url": {"display_text": "Pagar", "url": "http://x.example"}})
    with pytest.raises(ValueError):
        SendRequest.model_validate(
            {**base, "cta_url": {"display_text": "x" * 21, "url": "https://x.example"}}
        )
    with pytest.raises(ValueError, match="WhatsApp-only"):
        SendRequest.model_validate(
            {**base, "channel": "instagram", "cta_url": {"display_text": "Pagar", "url": "https://x.example"}}
        )
