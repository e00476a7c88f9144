"""A fake Meta Graph API: WhatsApp Cloud API + Messenger/Instagram Send API, on loopback.

Speaks the real shapes (EXTERNAL_APIS.md A5, A6, A8, A9, B2), records every call, fails on
command (HTTP 429/500, Graph codes like 131047, timeouts), and can POST correctly signed webhooks
(statuses for what it accepted, or a simulated customer's message) to a target URL.

Templates (F5): `GET /{v}/{WABA_ID}/message_templates`, template sends checked against them, and
the template status/category webhooks. A given recipient can be made to fail with a given code,
synchronously (HTTP 400) or asynchronously (accepted, then a `failed` status webhook): which one
Meta uses per code is unconfirmed (EXTERNAL_APIS.md E), so the test chooses. Status webhooks are
retried until the target answers 200, as Meta does (A3).

Control API (not Meta's): `/_fake/...`, see the route docstrings.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from . import templates as tpl
from .payloads import signed, wa_message, wa_status

GRAPH_ERRORS = {
    131047: (400, "Re-engagement message"),
    131030: (400, "Recipient phone number not in allowed list"),
    131026: (400, "Message undeliverable"),
    131049: (400, "This message was not delivered to maintain healthy ecosystem engagement"),
    131050: (400, "User has stopped marketing messages"),
    131056: (400, "(Business Account, Consumer Account) pair rate limit hit"),
    132000: (400, "Number of parameters does not match the expected number of params"),
    132001: (404, "Template name does not exist in the translation"),
    130429: (400, "Rate limit hit"),
    131000: (500, "Something went wrong"),
    131016: (503, "Service unavailable"),
    190: (401, "Error validating access token"),
    4: (400, "Application request limit reached"),
}


@dataclass
class FakeState:
    requests: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    failures: deque[dict[str, Any]] = field(default_factory=deque)
    tokens: dict[str, str] = field(default_factory=dict)  # account id → required bearer token
    status_webhook: dict[str, str] | None = None  # {"url", "app_secret"}: post "sent" statuses
    webhook_results: list[int] = field(default_factory=list)
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    templates: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # WABA id → templates
    phone_wabas: dict[str, str] = field(default_factory=dict)  # phone_number_id → WABA id
    # recipient wa_id → {"code": int, "mode": "sync"|"async", "times": int | None (None: always)}
    recipient_failures: dict[str, dict[str, Any]] = field(default_factory=dict)
    status_attempts: int = 30  # deliveries of one status webhook before giving up (~2.5 min)

    def reset(self) -> None:
        self.requests.clear()
        self.sent.clear()
        self.failures.clear()
        self.webhook_results.clear()
        self.recipient_failures.clear()

    def recipient_failure(self, to: str) -> dict[str, Any] | None:
        spec = self.recipient_failures.get(to)
        if spec is None:
            return None
        if spec.get("times") is not None:
            spec["times"] -= 1
            if spec["times"] <= 0:
                del self.recipient_failures[to]
        return spec


def graph_error(code: int, status: int | None = None, message: str | None = None) -> JSONResponse:
    http_status, title = GRAPH_ERRORS.get(code, (400, "Invalid parameter"))
    return JSONResponse(
        {
            "error": {
                "message": f"(#{code}) {message or title}",
                "type": "OAuthException",
                "code": code,
                "error_data": {"messaging_product": "whatsapp", "details": message or title},
                "fbtrace_id": "AFake" + uuid.uuid4().hex[:10],
            }
        },
        status_code=status or http_status,
    )


async def post_signed(url: str, app_secret: str, payload: Any) -> int:
    body, headers = signed(payload, app_secret)
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.post(url, content=body, headers=headers)
    return r.status_code


def create_app(state: FakeState | None = None) -> FastAPI:
    st = state or FakeState()
    app = FastAPI(title="Fake Meta Graph API")
    app.state.fake = st

    def spawn(coro: Any) -> None:
        task = asyncio.create_task(coro)
        st.tasks.add(task)
        task.add_done_callback(st.tasks.discard)

    async def deliver_status(
        account: str, mid: str, to: str, callback: str | None, status: str = "sent", code: int | None = None
    ) -> None:
        hook = st.status_webhook
        if not hook:
            return
        payload = wa_status(account, mid, status, to, callback_data=callback, error_code=code)
        if code is not None:
            payload["entry"][0]["changes"][0]["value"]["statuses"][0]["errors"][0]["title"] = (
                GRAPH_ERRORS.get(code, (400, "error"))[1]
            )
        for attempt in range(st.status_attempts):
            result = 0
            with contextlib.suppress(httpx.HTTPError):
                result = await post_signed(hook["url"], hook["app_secret"], payload)
            st.webhook_results.append(result)
            if result == 200:
                return
            await asyncio.sleep(min(0.2 * 2**attempt, 5.0))  # Meta retries "with decreasing frequency"

    @app.post("/{version}/{account}/messages")
    async def messages(version: str, account: str, request: Request) -> Response:
        """WhatsApp Cloud API send / mark-as-read, and the Messenger/Instagram Send API."""
        auth = request.headers.get("authorization", "")
        try:
            body = await request.json()
        except ValueError:
            body = None
        record = {"path": f"/{version}/{account}/messages", "account": account, "json": body, "status": 0}
        st.requests.append(record)

        def answer(resp: Response) -> Response:
            record["status"] = resp.status_code
            return resp

        if not version.startswith("v") or not auth.startswith("Bearer "):
            return answer(graph_error(190, 401, "Missing access token"))
        if account in st.tokens and auth.removeprefix("Bearer ") != st.tokens[account]:
            return answer(graph_error(190))
        if not isinstance(body, dict):
            return answer(graph_error(100, 400, "Invalid JSON"))
        delay = 0.0
        if st.failures:
            failure = st.failures.popleft()
            if "timeout" in failure:
                delay = float(failure["timeout"])  # answer late, but the message IS accepted
            elif "status" in failure and "code" not in failure:
                return answer(
                    JSONResponse(
                        {"error": {"message": "fake failure", "code": 1}}, status_code=int(failure["status"])
                    )
                )
            else:
                return answer(graph_error(int(failure["code"]), failure.get("status")))
        if delay:
            await asyncio.sleep(delay)
        if body.get("messaging_product") == "whatsapp":
            if body.get("status") == "read":
                return answer(JSONResponse({"success": True}))
            to, mtype = body.get("to"), body.get("type")
            if not isinstance(to, str) or mtype not in body:
                return answer(graph_error(131008, 400, "Required parameter is missing"))
            if mtype == "template" and account in st.phone_wabas:
                verdict = tpl.check_send(st.templates.get(st.phone_wabas[account], []), body["template"])
                if verdict is not None:
                    return answer(graph_error(verdict[0], None, verdict[1]))
            failure = st.recipient_failure(to)
            if failure is not None and failure.get("mode", "sync") == "sync":
                return answer(graph_error(int(failure["code"])))
            mid = "wamid.FAKE" + uuid.uuid4().hex.upper()
            callback = body.get("biz_opaque_callback_data")
            if failure is not None:  # accepted now, failed later by webhook (e.g. 131047, 131026)
                spawn(deliver_status(account, mid, to, callback, "failed", int(failure["code"])))
            else:
                st.sent.append(
                    {"id": mid, "account": account, "to": to, "type": mtype, "body": body, "at": time.time()}
                )
                spawn(deliver_status(account, mid, to, callback))
            return answer(
                JSONResponse(
                    {
                        "messaging_product": "whatsapp",
                        "contacts": [{"input": to, "wa_id": to}],
                        "messages": [{"id": mid, "message_status": "accepted"}],
                    }
                )
            )
        recipient = body.get("recipient")
        if (
            isinstance(recipient, dict)
            and isinstance(recipient.get("id"), str)
            and isinstance(body.get("message"), dict)
        ):
            mid = "m_" + uuid.uuid4().hex
            st.sent.append(
                {"id": mid, "account": account, "to": recipient["id"], "type": "meta", "body": body}
            )
            return answer(JSONResponse({"recipient_id": recipient["id"], "message_id": mid}))
        return answer(graph_error(100, 400, "Invalid parameter"))

    @app.get("/{version}/{waba_id}/message_templates")
    async def message_templates(version: str, waba_id: str, request: Request) -> Response:
        """The WABA's templates, paged (`limit`, `after`)."""
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return graph_error(190, 401)
        try:
            limit = max(1, min(int(request.query_params.get("limit", "25")), 100))
        except ValueError:
            return graph_error(100, 400, "Invalid parameter")
        base = str(request.url).split("?")[0]
        return JSONResponse(
            tpl.page(st.templates.get(waba_id, []), limit, request.query_params.get("after"), base)
        )

    @app.post("/_fake/templates")
    async def set_templates(request: Request) -> dict[str, int]:
        """`{"waba_id", "templates": [...], "phone_number_id"?}`: replace a WABA's templates (and
        tie a number to it, so its template sends are checked)."""
        spec = await request.json()
        st.templates[str(spec["waba_id"])] = list(spec.get("templates") or [])
        if spec.get("phone_number_id"):
            st.phone_wabas[str(spec["phone_number_id"])] = str(spec["waba_id"])
        return {"templates": len(st.templates[str(spec["waba_id"])])}

    @app.post("/_fake/fail_recipient")
    async def fail_recipient(request: Request) -> dict[str, bool]:
        """`{"to": wa_id, "code": 131050, "mode": "sync"|"async", "times": n}` (no `times`: every
        send to that recipient fails); `{"to": wa_id, "code": null}` clears it."""
        spec = await request.json()
        if spec.get("code") is None:
            st.recipient_failures.pop(str(spec["to"]), None)
        else:
            st.recipient_failures[str(spec["to"])] = {
                "code": int(spec["code"]),
                "mode": spec.get("mode", "sync"),
                "times": spec.get("times"),
            }
        return {"ok": True}

    @app.post("/_fake/status")
    async def push_status(request: Request) -> dict[str, bool]:
        """`{"id": wamid, "status": "delivered"|"read"}` for a message the fake accepted."""
        spec = await request.json()
        for m in st.sent:
            if m["id"] == spec["id"]:
                await deliver_status(
                    m["account"], m["id"], m["to"], m["body"].get("biz_opaque_callback_data"), spec["status"]
                )
                return {"ok": True}
        return {"ok": False}

    @app.get("/_media/{media_id}")
    async def media_bytes(media_id: str, request: Request) -> Response:
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return Response(status_code=404)
        return Response(b"\xff\xd8\xff\xd9", media_type="image/jpeg")

    @app.post("/_fake/fail")
    async def fail(request: Request) -> dict[str, int]:
        """Queue failures for the next sends: `{"status": 500}`, `{"status": 429}`, `{"code": 131047}`,
        `{"timeout": 3}` (answers after 3 s, message accepted); `"times": n` repeats it."""
        spec = await request.json()
        for _ in range(int(spec.pop("times", 1))):
            st.failures.append(dict(spec))
        return {"queued": len(st.failures)}

    @app.post("/_fake/config")
    async def config(request: Request) -> dict[str, bool]:
        """`{"tokens": {account: token}, "status_webhook": {"url", "app_secret"} | null}`."""
        spec = await request.json()
        if "tokens" in spec:
            st.tokens = dict(spec["tokens"])
        if "status_webhook" in spec:
            st.status_webhook = spec["status_webhook"]
        return {"ok": True}

    @app.get("/_fake/requests")
    async def requests_() -> list[dict[str, Any]]:
        return st.requests

    @app.get("/_fake/sent")
    async def sent(to: str | None = None) -> list[dict[str, Any]]:
        """Accepted messages (what customers got), optionally for one recipient."""
        return [m for m in st.sent if to is None or m["to"] == to]

    @app.post("/_fake/reset")
    async def reset() -> dict[str, bool]:
        st.reset()
        return {"ok": True}

    @app.post("/_fake/webhook")
    async def webhook(request: Request) -> dict[str, int]:
        """Sign `payload` with `app_secret` and POST it to `url`; returns the target's status."""
        spec = await request.json()
        return {"status": await post_signed(spec["url"], spec["app_secret"], spec["payload"])}

    @app.post("/_fake/customer")
    async def customer(request: Request) -> dict[str, Any]:
        """A simulated customer writes: `{url, app_secret, phone_number_id, wa_id, text, name?}`."""
        spec = await request.json()
        payload = wa_message(
            spec["phone_number_id"], spec["wa_id"], text=spec["text"], name=spec.get("name", "Ana")
        )
        status = await post_signed(spec["url"], spec["app_secret"], payload)
        return {
            "status": status,
            "message_id": payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"],
        }

    @app.get("/{version}/{media_id}")
    async def media_info(version: str, media_id: str, request: Request) -> Response:
        """Media metadata with a short-lived URL (A9); the URL needs the same bearer token."""
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return graph_error(190, 401)
        base = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "url": f"{base}/_media/{media_id}",
                "mime_type": "image/jpeg",
                "sha256": "fake",
                "file_size": 4,
                "id": media_id,
            }
        )

    return app
