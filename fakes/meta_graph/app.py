"""A fake Meta Graph API: WhatsApp Cloud API + Messenger/Instagram Send API, on loopback.

Speaks the real shapes (EXTERNAL_APIS.md A5, A6, A8, A9, B2), records every call, fails on
command (HTTP 429/500, Graph codes like 131047, timeouts), and can POST correctly signed webhooks
(statuses for what it accepted, or a simulated customer's message) to a target URL.

Templates (F5): `GET /{v}/{WABA_ID}/message_templates`, template sends checked against them, and
the template status/category webhooks. A given recipient can be made to fail with a given code,
synchronously (HTTP 400) or asynchronously (accepted, then a `failed` status webhook): which one
Meta uses per code is unconfirmed (EXTERNAL_APIS.md E), so the test chooses.

Meta's limits, on command (`/_fake/config`): a number's throughput (a token bucket of
`throughput` messages/s, burst one second's worth) answered with 130429 when exceeded, and the
pair rate (one message per `pair_interval` s to the same user) answered with 131056. Every
accepted message is recorded with its timestamp. Status webhooks are batched (several statuses
per POST, as Meta does) and retried until the target answers 2xx (A3); with
`template_statuses` set, template messages also get `delivered` and `read` after `sent`.

Control API (not Meta's): `/_fake/...`, see the route docstrings.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
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
    # phone_number_id → whatsapp_business_manager_messaging_limit (TIER_250 … TIER_UNLIMITED);
    # a number not listed answers like a token without the permission (error 100).
    messaging_limits: dict[str, str] = field(default_factory=dict)
    # recipient wa_id → {"code": int, "mode": "sync"|"async", "times": int | None (None: always)}
    recipient_failures: dict[str, dict[str, Any]] = field(default_factory=dict)
    status_attempts: int = 30  # deliveries of one status webhook before giving up (~2.5 min)
    # Meta's limits (None = not enforced).
    throughput: float | None = None
    pair_interval: float | None = None
    template_statuses: tuple[str, ...] = ()  # e.g. ("delivered", "read") after "sent"
    status_delay: float = 0.05  # seconds between a message's successive statuses
    record_bodies: bool = True
    rejected: dict[int, int] = field(default_factory=dict)  # Graph code → count
    template_sends: int = 0  # accepted template messages (a benchmark polls it)
    _tokens: float = 0.0
    _tokens_at: float = 0.0
    _last_to: dict[str, float] = field(default_factory=dict)
    # Status webhooks waiting to go out: (due, account, status, delivery attempts so far).
    outbox: list[tuple[float, str, dict[str, Any], int]] = field(default_factory=list)
    _flusher: asyncio.Task[Any] | None = None

    def reset(self) -> None:
        self.requests.clear()
        self.sent.clear()
        self.failures.clear()
        self.webhook_results.clear()
        self.recipient_failures.clear()
        self.rejected.clear()
        self.template_sends = 0
        self._last_to.clear()
        self.outbox.clear()
        self._tokens_at = 0.0

    def recipient_failure(self, to: str) -> dict[str, Any] | None:
        spec = self.recipient_failures.get(to)
        if spec is None:
            return None
        if spec.get("times") is not None:
            spec["times"] -= 1
            if spec["times"] <= 0:
                del self.recipient_failures[to]
        return spec

    def take_token(self, now: float) -> bool:
        """Throughput: a bucket of `throughput` tokens/s holding at most one second's worth."""
        if not self.throughput:
            return True
        if self._tokens_at == 0.0:
            self._tokens, self._tokens_at = self.throughput, now
        self._tokens = min(self.throughput, self._tokens + (now - self._tokens_at) * self.throughput)
        self._tokens_at = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True

    def pair_ok(self, to: str, now: float) -> bool:
        if not self.pair_interval:
            return True
        last = self._last_to.get(to)
        return last is None or now - last >= self.pair_interval


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


@functools.cache
def _tls() -> ssl.SSLContext:
    # Built once: loading the CA store for every webhook cost the fake most of its CPU at
    # campaign rates (and slowed its send endpoint, which shares the event loop).
    return ssl.create_default_context()


async def post_signed(url: str, app_secret: str, payload: Any) -> int:
    body, headers = signed(payload, app_secret)
    async with httpx.AsyncClient(timeout=10, verify=_tls()) as client:
        r = await client.post(url, content=body, headers=headers)
    return r.status_code


def interactive_problem(obj: Any) -> str | None:
    """Meta's limits on interactive messages: buttons (≤3, title ≤20), list (≤10 rows, title ≤24,
    description ≤72, button ≤20), cta_url (display_text ≤20, an https URL)."""
    if not isinstance(obj, dict) or not isinstance(obj.get("body", {}).get("text"), str):
        return "interactive.body.text is required"
    kind, action = obj.get("type"), obj.get("action") or {}
    if kind == "button":
        buttons = action.get("buttons") or []
        if not 1 <= len(buttons) <= 3 or any(len(b["reply"]["title"]) > 20 for b in buttons):
            return "buttons: 1 to 3, titles up to 20 characters"
    elif kind == "list":
        rows = [r for sec in action.get("sections") or [] for r in sec.get("rows") or []]
        if not action.get("button") or len(action["button"]) > 20 or not 1 <= len(rows) <= 10:
            return "list: a button up to 20 characters and 1 to 10 rows"
        if any(len(r.get("title", "")) > 24 or len(r.get("description") or "") > 72 for r in rows):
            return "list rows: title up to 24, description up to 72 characters"
    elif kind == "cta_url":
        params = action.get("parameters") or {}
        if action.get("name") != "cta_url" or not str(params.get("url", "")).startswith("https://"):
            return "cta_url: action.name cta_url with an https url"
        if not params.get("display_text") or len(params["display_text"]) > 20:
            return "cta_url: display_text up to 20 characters"
    else:
        return f"unsupported interactive type {kind!r}"
    return None


def create_app(state: FakeState | None = None) -> FastAPI:
    st = state or FakeState()
    app = FastAPI(title="Fake Meta Graph API")
    app.state.fake = st

    def queue_status(
        account: str,
        mid: str,
        to: str,
        callback: str | None,
        status: str = "sent",
        code: int | None = None,
        after: float = 0.0,
    ) -> None:
        if not st.status_webhook:
            return
        payload = wa_status(account, mid, status, to, callback_data=callback, error_code=code)
        item = payload["entry"][0]["changes"][0]["value"]["statuses"][0]
        if code is not None:
            item["errors"][0]["title"] = GRAPH_ERRORS.get(code, (400, "error"))[1]
        st.outbox.append((time.monotonic() + after, account, item, 0))
        if st._flusher is None or st._flusher.done():
            st._flusher = asyncio.create_task(flush_statuses())
            st.tasks.add(st._flusher)
            st._flusher.add_done_callback(st.tasks.discard)

    async def flush_statuses() -> None:
        """POST due statuses, many per webhook (Meta batches); a refused or failed POST is retried
        with decreasing frequency, `status_attempts` times (Meta redelivers, A3)."""
        while st.outbox:
            await asyncio.sleep(0.05)
            hook = st.status_webhook
            if not hook:
                st.outbox.clear()
                return
            now = time.monotonic()
            due = [item for item in st.outbox if item[0] <= now]
            if not due:
                continue
            st.outbox = [item for item in st.outbox if item[0] > now]
            by_account: dict[str, list[tuple[dict[str, Any], int]]] = {}
            for _, account, status, attempt in due:
                by_account.setdefault(account, []).append((status, attempt))
            for account, items in by_account.items():
                for start in range(0, len(items), 500):
                    chunk = items[start : start + 500]
                    payload = wa_status(account, "x", "sent", "x")
                    payload["entry"][0]["changes"][0]["value"]["statuses"] = [c[0] for c in chunk]
                    result = 0
                    with contextlib.suppress(httpx.HTTPError):
                        result = await post_signed(hook["url"], hook["app_secret"], payload)
                    st.webhook_results.append(result)
                    if not 200 <= result < 300:
                        st.outbox.extend(
                            (now + min(0.2 * 2**attempt, 5.0), account, status, attempt + 1)
                            for status, attempt in chunk
                            if attempt + 1 < st.status_attempts
                        )

    @app.post("/{version}/{account}/messages")
    async def messages(version: str, account: str, request: Request) -> Response:
        """WhatsApp Cloud API send / mark-as-read, and the Messenger/Instagram Send API."""
        auth = request.headers.get("authorization", "")
        try:
            body = await request.json()
        except ValueError:
            body = None
        record = {"path": f"/{version}/{account}/messages", "account": account, "json": body, "status": 0}
        if st.record_bodies:
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
            if mtype == "interactive" and (problem := interactive_problem(body["interactive"])):
                return answer(graph_error(131009, 400, problem))
            if mtype == "template" and account in st.phone_wabas:
                verdict = tpl.check_send(st.templates.get(st.phone_wabas[account], []), body["template"])
                if verdict is not None:
                    return answer(graph_error(verdict[0], None, verdict[1]))
            now = time.monotonic()
            for code, ok in ((130429, st.take_token(now)), (131056, st.pair_ok(to, now))):
                if not ok:
                    st.rejected[code] = st.rejected.get(code, 0) + 1
                    return answer(graph_error(code))
            failure = st.recipient_failure(to)
            if failure is not None and failure.get("mode", "sync") == "sync":
                return answer(graph_error(int(failure["code"])))
            if st.pair_interval:
                st._last_to[to] = now
            mid = "wamid.FAKE" + uuid.uuid4().hex.upper()
            callback = body.get("biz_opaque_callback_data")
            if failure is not None:  # accepted now, failed later by webhook (e.g. 131047, 131026)
                queue_status(account, mid, to, callback, "failed", int(failure["code"]))
            else:
                if mtype == "template":
                    st.template_sends += 1
                st.sent.append(
                    {
                        "id": mid,
                        "account": account,
                        "to": to,
                        "type": mtype,
                        "body": body if st.record_bodies else {},
                        "at": time.time(),
                    }
                )
                queue_status(account, mid, to, callback)
                if mtype == "template":
                    for i, kind in enumerate(st.template_statuses, start=1):
                        queue_status(account, mid, to, callback, kind, after=i * st.status_delay)
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
                hook = st.status_webhook
                if hook:
                    payload = wa_status(
                        m["account"],
                        m["id"],
                        spec["status"],
                        m["to"],
                        callback_data=m["body"].get("biz_opaque_callback_data"),
                    )
                    for attempt in range(st.status_attempts):
                        result = 0
                        with contextlib.suppress(httpx.HTTPError):
                            result = await post_signed(hook["url"], hook["app_secret"], payload)
                        st.webhook_results.append(result)
                        if result == 200:
                            break
                        await asyncio.sleep(min(0.2 * 2**attempt, 5.0))
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
        `{"timeout": 3}` (answers after 3 s, message accepted), `{"lost": 3}` (answers after 3 s, message
        never sent); `"times": n` repeats it."""
        spec = await request.json()
        for _ in range(int(spec.pop("times", 1))):
            st.failures.append(dict(spec))
        return {"queued": len(st.failures)}

    @app.post("/_fake/config")
    async def config(request: Request) -> dict[str, bool]:
        """`{"tokens": {account: token}, "status_webhook": {"url", "app_secret"} | null,
        "throughput": msgs/s | null, "pair_interval": s | null,
        "template_statuses": ["delivered", "read"], "status_delay": s, "status_attempts": n,
        "record_bodies": bool}`."""
        spec = await request.json()
        if "tokens" in spec:
            st.tokens = dict(spec["tokens"])
        if "status_webhook" in spec:
            st.status_webhook = spec["status_webhook"]
        if "throughput" in spec:
            st.throughput = float(spec["throughput"]) if spec["throughput"] else None
            st._tokens_at = 0.0
        if "pair_interval" in spec:
            st.pair_interval = float(spec["pair_interval"]) if spec["pair_interval"] else None
        if "template_statuses" in spec:
            st.template_statuses = tuple(str(x) for x in spec["template_statuses"])
        if "status_delay" in spec:
            st.status_delay = float(spec["status_delay"])
        if "status_attempts" in spec:
            st.status_attempts = max(1, int(spec["status_attempts"]))
        if "record_bodies" in spec:
            st.record_bodies = bool(spec["record_bodies"])
        return {"ok": True}

    @app.get("/_fake/stats")
    async def stats(since: float | None = None, until: float | None = None) -> dict[str, Any]:
        """Counts for benchmarks: accepted template sends (optionally between two epoch times),
        rejections by code, duplicates by recipient, and the achieved rate between the first and
        last accepted send."""
        window = [
            m
            for m in st.sent
            if m["type"] == "template"
            and (since is None or m["at"] >= since)
            and (until is None or m["at"] <= until)
        ]
        ats = [m["at"] for m in window]
        per_to: dict[str, int] = {}
        for m in st.sent:
            if m["type"] == "template":
                per_to[m["to"]] = per_to.get(m["to"], 0) + 1
        span = (max(ats) - min(ats)) if len(ats) > 1 else 0.0
        return {
            "sent": len(ats),
            "recipients": len(per_to),
            "duplicates": sum(n - 1 for n in per_to.values()),
            "rejected": {str(k): v for k, v in st.rejected.items()},
            "first_at": min(ats) if ats else None,
            "last_at": max(ats) if ats else None,
            "rate": (len(ats) - 1) / span if span > 0 else None,
            "pending_statuses": len(st.outbox),
        }

    @app.get("/_fake/count")
    async def count() -> dict[str, int]:
        """Accepted template sends so far: what a benchmark polls (`/_fake/stats` walks every
        message, which at 100,000 costs the fake's event loop tens of ms per poll)."""
        return {"sent": st.template_sends}

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
        """Media metadata with a short-lived URL (A9); the URL needs the same bearer token.
        With `fields=whatsapp_business_manager_messaging_limit` on a phone number id: its
        portfolio's messaging limit (F5)."""
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return graph_error(190, 401)
        if "whatsapp_business_manager_messaging_limit" in request.query_params.get("fields", ""):
            tier = st.messaging_limits.get(media_id)
            if tier is None:
                return graph_error(100, 400, "Unsupported get request")
            return JSONResponse({"whatsapp_business_manager_messaging_limit": tier, "id": media_id})
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
