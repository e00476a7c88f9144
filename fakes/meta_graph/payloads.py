"""Webhook bodies as Meta sends them (EXTERNAL_APIS.md A2/A4/B1), and their signatures."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from typing import Any


def encode(obj: Any) -> bytes:
    """Meta's byte form: ASCII-escaped, compact, with `/` escaped as `\\/` (sign exactly these)."""
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode()


def sign(body: bytes, app_secret: str) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signed(obj: Any, app_secret: str) -> tuple[bytes, dict[str, str]]:
    body = encode(obj)
    return body, {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, app_secret)}


def wamid() -> str:
    return "wamid.FAKE" + uuid.uuid4().hex.upper()


def wa_envelope(phone_number_id: str, value: dict[str, Any], field: str = "messages") -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": field,
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "5491150000000",
                                "phone_number_id": phone_number_id,
                            },
                            **value,
                        },
                    }
                ],
            }
        ],
    }


def wa_message(
    phone_number_id: str,
    wa_id: str,
    *,
    type: str = "text",
    content: dict[str, Any] | None = None,
    text: str | None = None,
    message_id: str | None = None,
    name: str = "Ana",
    timestamp: int | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One inbound WhatsApp message; `text` is shorthand for a text message's body."""
    if type == "text" and content is None:
        content = {"body": text or "Hola"}
    msg: dict[str, Any] = {
        "from": wa_id,
        "id": message_id or wamid(),
        "timestamp": str(timestamp or int(time.time())),
        "type": type,
        type: content or {},
        **(extra or {}),
    }
    return wa_envelope(
        phone_number_id, {"contacts": [{"profile": {"name": name}, "wa_id": wa_id}], "messages": [msg]}
    )


def wa_status(
    phone_number_id: str,
    message_id: str,
    status: str,
    recipient: str,
    *,
    callback_data: str | None = None,
    error_code: int | None = None,
    error_details: str = "",
) -> dict[str, Any]:
    st: dict[str, Any] = {
        "id": message_id,
        "status": status,
        "timestamp": str(int(time.time())),
        "recipient_id": recipient,
    }
    if callback_data:
        st["biz_opaque_callback_data"] = callback_data
    if status == "failed":
        st["errors"] = [
            {
                "code": error_code or 131047,
                "title": "Re-engagement message",
                "message": "Re-engagement message",
                "error_data": {"details": error_details or "more than 24 hours have passed"},
                "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
            }
        ]
    return wa_envelope(phone_number_id, {"statuses": [st]})


def meta_message(
    object_: str, account_id: str, sender_id: str, text: str = "hola", *, mid: str | None = None
) -> dict[str, Any]:
    """Instagram (`object_="instagram"`) or Messenger (`"page"`) inbound text message."""
    now = int(time.time() * 1000)
    return {
        "object": object_,
        "entry": [
            {
                "id": account_id,
                "time": now,
                "messaging": [
                    {
                        "sender": {"id": sender_id},
                        "recipient": {"id": account_id},
                        "timestamp": now,
                        "message": {"mid": mid or ("m_" + uuid.uuid4().hex), "text": text},
                    }
                ],
            }
        ],
    }


def wa_user_preferences(
    phone_number_id: str,
    wa_id: str,
    value: str,
    *,
    name: str = "Ana",
    category: str = "marketing_messages",
    timestamp: int | None = None,
) -> dict[str, Any]:
    """The `user_preferences` webhook: the user stopped (`value` "stop") or resumed ("resume")
    the business's marketing messages in WhatsApp's own settings (EXTERNAL_APIS.md F5)."""
    detail = {
        "stop": "User requested to stop marketing messages",
        "resume": "User requested to resume marketing messages",
    }.get(value, "")
    pref = {
        "wa_id": wa_id,
        "detail": detail,
        "category": category,
        "value": value,
        "timestamp": timestamp or int(time.time()),
    }
    return wa_envelope(
        phone_number_id,
        {"contacts": [{"profile": {"name": name}, "wa_id": wa_id}], "user_preferences": [pref]},
        field="user_preferences",
    )
