"""Webhook edge: signatures, handshake, shapes, duplicates."""

from __future__ import annotations

import json

import pytest

from fakes.meta_graph import encode, sign, wa_message

from .conftest import APP_SECRET, PHONE_NUMBER_ID, VERIFY_TOKEN, Stack, eventually


async def test_signature_good_bad_and_missing(stack: Stack) -> None:
    payload = wa_message(PHONE_NUMBER_ID, "5491123456789", text="hola")
    body = encode(payload)
    url = f"{stack.orch_url}/webhooks/whatsapp"

    missing = await stack.client.post(url, content=body, headers={"Content-Type": "application/json"})
    bad = await stack.client.post(
        url, content=body, headers={"X-Hub-Signature-256": sign(body, "wrong-secret")}
    )
    # A body re-serialised after signing (unescaped "/") no longer matches its signature.
    tampered = body.replace(b'"hola"', b'"chau"')
    wrong_body = await stack.client.post(
        url, content=tampered, headers={"X-Hub-Signature-256": sign(body, APP_SECRET)}
    )
    assert [missing.status_code, bad.status_code, wrong_body.status_code] == [401, 401, 401]
    assert missing.json()["error"]["code"] == "unauthorized"
    assert stack.rows("SELECT count(*) FROM inbound_events") == [(0,)]
    assert stack.rows("SELECT count(*) FROM chat_messages") == [(0,)]
    # Counted per source, reason and minute: no row per forged request.
    counted = stack.rows(
        "SELECT source, reason, sum(count)::int FROM webhook_rejections GROUP BY 1, 2 ORDER BY reason"
    )
    assert counted == [
        ("whatsapp", "signature mismatch", 2),
        ("whatsapp", "signature missing or malformed", 1),
    ]
    assert stack.rows("SELECT count(*) FROM audit_log WHERE action = 'webhook.rejected'") == [(0,)]
    assert APP_SECRET not in json.dumps(counted)
    for _ in range(20):  # a flood adds to the same counter
        await stack.client.post(
            url, content=body, headers={"X-Hub-Signature-256": sign(body, "wrong-secret")}
        )
    # 23 rejections, at most two counter rows per minute this test spanned (not 23 rows).
    assert stack.rows("SELECT sum(count)::int FROM webhook_rejections") == [(23,)]
    assert stack.rows("SELECT count(*) <= 2 * count(DISTINCT minute) FROM webhook_rejections") == [(True,)]

    good = await stack.client.post(url, content=body, headers={"X-Hub-Signature-256": sign(body, APP_SECRET)})
    assert good.status_code == 200
    assert stack.rows("SELECT count(*) FROM inbound_events") == [(1,)]


async def test_handshake(stack: Stack) -> None:
    url = f"{stack.orch_url}/webhooks/whatsapp"
    ok = await stack.client.get(
        url, params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    )
    assert ok.status_code == 200 and ok.text == "1158201444"
    assert ok.headers["content-type"].startswith("text/plain")
    wrong = await stack.client.get(
        url, params={"hub.mode": "subscribe", "hub.verify_token": "nope-nope", "hub.challenge": "1"}
    )
    assert wrong.status_code == 403
    mode = await stack.client.get(
        url, params={"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"}
    )
    assert mode.status_code == 403
    meta = await stack.client.get(
        f"{stack.orch_url}/webhooks/meta",
        params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "42"},
    )
    assert meta.status_code == 200 and meta.text == "42"


async def test_handshake_decrypts_no_tenant_secret(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    from nexus_common.crypto import Crypto

    decrypted: list[bytes] = []
    real = Crypto.decrypt

    def counting(self: Crypto, token: bytes) -> str:
        decrypted.append(token)
        return real(self, token)

    monkeypatch.setattr(Crypto, "decrypt", counting)
    url = f"{stack.orch_url}/webhooks/whatsapp"

    async def shake(token: str) -> int:
        params = {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "7"}
        return (await stack.client.get(url, params=params)).status_code

    assert [await shake(VERIFY_TOKEN), await shake("not-the-token")] == [200, 403]
    assert decrypted == []
    # A token stored before the lookup hash existed is decrypted once, then found by its hash.
    stack.rows("UPDATE credentials SET lookup_hash = NULL WHERE kind LIKE '%%verify_token' RETURNING id")
    assert await shake(VERIFY_TOKEN) == 200
    assert len(decrypted) == 1  # only the one whatsapp verify token without a hash
    assert await shake(VERIFY_TOKEN) == 200 and await shake("not-the-token") == 403
    assert len(decrypted) == 1


async def test_malformed_and_unknown_shapes_are_400(stack: Stack) -> None:
    url = f"{stack.orch_url}/webhooks/whatsapp"
    for body in (
        b"{not json",
        encode({"object": "whatsapp_business_account"}),
        encode([1, 2]),
        encode({"object": "page", "entry": []}),
    ):
        r = await stack.client.post(
            url, content=body, headers={"X-Hub-Signature-256": sign(body, APP_SECRET)}
        )
        assert r.status_code == 400, body
        assert r.json()["error"]["code"] in ("malformed_json", "unknown_shape")
    big = b"{" + b" " * (3 * 1024 * 1024 + 10) + b"}"
    r = await stack.client.post(url, content=big, headers={"X-Hub-Signature-256": sign(big, APP_SECRET)})
    assert r.status_code == 413
    assert stack.rows("SELECT count(*) FROM inbound_events") == [(0,)]


async def test_same_webhook_three_times_one_message_one_reply(stack: Stack) -> None:
    payload = wa_message(PHONE_NUMBER_ID, "5491123456789", text="¿Tienen stock?")
    for _ in range(3):
        assert (await stack.post_whatsapp(payload)).status_code == 200
    # Also a re-signed variant of the same message id (e.g. another subscribed app's delivery).
    payload["entry"][0]["id"] = "other-waba"
    assert (await stack.post_whatsapp(payload)).status_code == 200
    await eventually(lambda: stack.sent_to("5491123456789"))
    await eventually(
        lambda: stack.rows("SELECT count(*) FROM inbound_events WHERE state <> 'pending'") == [(2,)]
    )
    await eventually(
        lambda: (
            stack.rows("SELECT count(*) FROM chat_messages WHERE direction='outbound' AND status='sent'")
            == [(1,)]
        )
    )
    assert stack.rows("SELECT count(*) FROM chat_messages WHERE direction = 'inbound'") == [(1,)]
    assert len(stack.sent_to("5491123456789")) == 1
