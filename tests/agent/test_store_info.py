"""`store_info` answers only whitelisted store facts; the agent never receives other settings."""

from __future__ import annotations

import json

import pytest
from agent_service.agent.tools import store_info
from nexus_common.contracts.agent import STORE_TOPICS, agent_settings

TENANT_SETTINGS = {
    "language": "es",
    "handoff_emails": ["dueña@tienda.example"],
    "synonyms": {"remera": ["camiseta"]},
    "tiendanube": {"store_id": 123, "webhook_secret": "s3cr3t"},
    "transcript_domains": ["tienda.example"],
    "provider_chain": ["anthropic", "openai"],
    "store_info": {"shipping": "Envío gratis desde $ 50000", "hours": "Lun a Vie 9-18"},
}
PRIVATE = ("dueña@tienda.example", "camiseta", "s3cr3t", "store_id", "transcript_domains")


@pytest.mark.parametrize(
    "topic", ["handoff_emails", "synonyms", "tiendanube", "language", "store_info", "../settings", "email"]
)
def test_a_topic_outside_the_whitelist_reads_nothing(topic: str) -> None:
    out = store_info(TENANT_SETTINGS, topic)
    assert out["error"] == "unknown topic"
    assert not any(p in json.dumps(out, ensure_ascii=False) for p in PRIVATE)


def test_whitelisted_topics_answer_from_store_facts_only() -> None:
    assert store_info(TENANT_SETTINGS, "shipping") == {"shipping": "Envío gratis desde $ 50000"}
    assert store_info(TENANT_SETTINGS, "all") == {
        "shipping": "Envío gratis desde $ 50000",
        "hours": "Lun a Vie 9-18",
    }
    assert store_info(TENANT_SETTINGS, "returns")["unknown"] is True


def test_the_agent_request_carries_store_facts_and_provider_chain_only() -> None:
    sent = agent_settings(TENANT_SETTINGS)
    assert sent == {
        "store_info": {"hours": "Lun a Vie 9-18", "shipping": "Envío gratis desde $ 50000"},
        "provider_chain": ["anthropic", "openai"],
    }
    text = json.dumps(sent, ensure_ascii=False)
    assert not any(p in text for p in PRIVATE)
    # Older tenants keep facts at the top level: only the whitelisted keys travel.
    legacy = agent_settings({"shipping": "Retiro en local", "handoff_emails": ["a@b.example"]})
    assert legacy == {"store_info": {"shipping": "Retiro en local"}}
    assert set(STORE_TOPICS) == {"shipping", "payments", "returns", "hours", "contact"}
