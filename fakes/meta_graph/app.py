"""A fake Meta Graph API: WhatsApp Cloud API + Messenger/Instagram Send API, on loopback.

Speaks the real shapes (EXTERNAL_APIS.md A5, A6, A8, A9, B2), records every call, fails on
command (HTTP 429/500, Graph codes like 131047, timeouts), and can POST correctly signed webhooks
(statuses for what it accepted, or a simulated customer's message) to a target URL.

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

from .payloads import signed, wa_message, wa_status

GRAPH_ERRORS = {
    131047: (400, "Re-engagement message"),
    131030: (400, "Recipient phone number not in allowed list"),
    131026: (400, "Message undeliverable"),
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

    def reset(self) -> None:
        self.requests.clear()
        self.sent.clear()
        self.failures.clear()
        self.webhook_results.clear()


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

    async def deliver_status(account: str, mid: str, to: str, callback: str | None) -> None:
        hook = st.status_webhook
        if not hook:
            return
        with contextlib.suppress(httpx.HTTPError):
            code = await post_signed(
                hook["url"], hook["app_secret"], wa_status(account, mid, "sent", to, callback_data=callback)
            )
            st.webhook_results.append(code)

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
            elif "lost" in failure:
                # The request dies before Graph takes it: answer late, and the message is NOT sent.
                await asyncio.sleep(float(failure["lost"]))
                return answer(JSONResponse({"error": {"message": "lost", "code": 2}}, status_code=500))
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
            mid = "wamid.FAKE" + uuid.uuid4().hex.upper()
            st.sent.append(
                {"id": mid, "account": account, "to": to, "type": mtype, "body": body, "at": time.time()}
            )
            spawn(deliver_status(account, mid, to, body.get("biz_opaque_callback_data")))
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

    @app.get("/_media/{media_id}")
    async def media_bytes(media_id: str, request: Request) -> Response:
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return Response(status_code=404)
        return Response(b"\xff\xd8\xff\xd9", media_type="image/jpeg")

    @app.post("/_fake/fail")
    async def fail(request: Request) -> dict[str, int]:
        """Queue failures for the next sends: `{"status": 500}`, `{"status": 429}`, `{"code": 131047}`,
        `{"timeout": 3}` (answers after 3 s, message accepted), `{"lost": 3}` (answers after 3 s, message
        never sent); `"times": n` repeats it."""
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
