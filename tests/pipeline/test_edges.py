"""Edges of the pipeline no other test reached: Meta's signature check, a chunked body over the
cap, and the 24-hour customer-care window."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fakes.meta_graph import encode, meta_message, sign, wa_message

from .conftest import ADMIN, APP_SECRET, PHONE_NUMBER_ID, Stack, eventually

IG_ACCOUNT = "17841400000000001"


async def test_meta_webhook_signature_is_enforced(stack: Stack) -> None:
    payload = meta_message("instagram", IG_ACCOUNT, "900000000000777", text="hola")
    body = encode(payload)
    url = f"{stack.orch_url}/webhooks/meta"
    missing = await stack.client.post(url, content=body, headers={"Content-Type": "application/json"})
    wrong = await stack.post_meta(payload, secret="not-the-app-secret")
    tampered = await stack.client.post(
        url,
        content=body.replace(b'"hola"', b'"chau"'),
        headers={"X-Hub-Signature-256": sign(body, APP_SECRET), "Content-Type": "application/json"},
    )
    assert [missing.status_code, wrong.status_code, tampered.status_code] == [401, 401, 401]
    assert stack.rows("SELECT count(*) FROM inbound_events") == [(0,)]
    assert (await stack.post_meta(payload)).status_code == 200
    assert stack.rows("SELECT count(*) FROM inbound_events") == [(1,)]


async def test_a_chunked_body_over_the_cap_is_413_and_stores_nothing(stack: Stack) -> None:
    chunk = b" " * (256 * 1024)

    async def body() -> AsyncIterator[bytes]:  # no Content-Length: the cap must hold while reading
        yield b'{"object": "whatsapp_business_account", "pad": "'
        for _ in range(16):  # 4 MiB > 3 MiB
            yield chunk
        yield b'"}'

    r = await stack.client.post(
        f"{stack.orch_url}/webhooks/whatsapp",
        content=body(),
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + "0" * 64},
    )
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "payload_too_large"
    assert stack.rows("SELECT count(*) FROM inbound_events") == [(0,)]


async def test_a_reply_outside_the_24_hour_window_is_refused_not_sent(stack: Stack) -> None:
    wa = "5491155550024"
    await stack.post_whatsapp(wa_message(PHONE_NUMBER_ID, wa, text="hola"))
    await eventually(lambda: len(stack.sent_to(wa)) == 1)  # the AI's answer, inside the window
    cid = stack.rows("SELECT id FROM chat_conversations")[0][0]
    # The customer last wrote 25 hours ago; the channel has no re-engagement template.
    stack.rows("UPDATE chat_conversations SET last_inbound_at = now() - interval '25 hours' RETURNING id")
    staff = {"Authorization": f"Bearer {ADMIN}", "X-Tenant-Id": stack.tenant_id}
    r = await stack.client.post(
        f"{stack.orch_url}/api/v1/conversations/{cid}/messages", json={"text": "¿Seguís ahí?"}, headers=staff
    )
    assert r.status_code == 202, r.text
    row = await eventually(
        lambda: stack.rows(
            "SELECT status, error_code FROM chat_messages "
            "WHERE text = '¿Seguís ahí?' AND status IN ('sent', 'failed')"
        )
    )
    assert row == [("failed", "window_closed")]
    assert len(stack.sent_to(wa)) == 1  # nothing more reached Graph
