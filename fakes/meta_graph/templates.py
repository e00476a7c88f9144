"""Fake WABA message templates (EXTERNAL_APIS.md F5): listing, send validation, webhooks.

`GET /{v}/{WABA_ID}/message_templates` pages with `limit` and an `after` cursor like Graph. A
template send through a phone number whose WABA is known (`phone_wabas`) is checked like Meta
does: unknown or unapproved name/language → 132001, wrong body parameter count → 132000.
"""

from __future__ import annotations

import re
import time
from typing import Any

_VAR = re.compile(r"\{\{\s*(\d+)\s*\}\}")


def template(
    name: str,
    language: str = "es_AR",
    *,
    body: str = "Hola {{1}}, tu pedido {{2}} por {{3}} está en camino: {{4}}",
    category: str = "UTILITY",
    status: str = "APPROVED",
    template_id: str | None = None,
) -> dict[str, Any]:
    """A template as Graph lists it."""
    return {
        "name": name,
        "language": language,
        "status": status,
        "category": category,
        "id": template_id or str(abs(hash((name, language))) % 10**15),
        "components": [{"type": "BODY", "text": body}],
    }


def body_params(tpl: dict[str, Any]) -> int:
    for comp in tpl.get("components") or []:
        if isinstance(comp, dict) and str(comp.get("type", "")).upper() == "BODY":
            return len(set(_VAR.findall(str(comp.get("text") or ""))))
    return 0


def page(templates: list[dict[str, Any]], limit: int, after: str | None, base: str) -> dict[str, Any]:
    start = int(after) if after and after.isdigit() else 0
    chunk = templates[start : start + limit]
    out: dict[str, Any] = {"data": chunk}
    nxt = start + limit
    paging: dict[str, Any] = {"cursors": {"before": str(start), "after": str(nxt)}}
    if nxt < len(templates):
        paging["next"] = f"{base}?limit={limit}&after={nxt}"
    out["paging"] = paging
    return out


def check_send(templates: list[dict[str, Any]], sent: dict[str, Any]) -> tuple[int, str] | None:
    """Meta's verdict on a template send: None (accepted) or (error code, details)."""
    name = sent.get("name")
    lang = (sent.get("language") or {}).get("code")
    match = [t for t in templates if t["name"] == name and t["language"] == lang]
    if not match or match[0]["status"] != "APPROVED":
        return 132001, f"template name ({name}) does not exist in {lang} or is not approved"
    given = 0
    for comp in sent.get("components") or []:
        if isinstance(comp, dict) and comp.get("type") == "body":
            given = len(comp.get("parameters") or [])
    if given != body_params(match[0]):
        return 132000, f"number of parameters ({given}) does not match the expected ({body_params(match[0])})"
    return None


def status_webhook(waba_id: str, tpl: dict[str, Any], event: str, reason: str = "NONE") -> dict[str, Any]:
    """`message_template_status_update` for one template."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": waba_id,
                "time": int(time.time()),
                "changes": [
                    {
                        "field": "message_template_status_update",
                        "value": {
                            "event": event,
                            "message_template_id": int(tpl["id"]),
                            "message_template_name": tpl["name"],
                            "message_template_language": tpl["language"],
                            "reason": reason,
                            "message_template_category": tpl["category"],
                        },
                    }
                ],
            }
        ],
    }


def category_webhook(waba_id: str, tpl: dict[str, Any], previous: str, new: str) -> dict[str, Any]:
    """`template_category_update` (the change is done)."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": waba_id,
                "time": int(time.time()),
                "changes": [
                    {
                        "field": "template_category_update",
                        "value": {
                            "message_template_id": int(tpl["id"]),
                            "message_template_name": tpl["name"],
                            "message_template_language": tpl["language"],
                            "previous_category": previous,
                            "new_category": new,
                        },
                    }
                ],
            }
        ],
    }
