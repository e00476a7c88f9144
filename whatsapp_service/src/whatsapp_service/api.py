"""Internal API: send (text, template, buttons, list, call-to-action URL button, image/document by
link), mark as read.

The tenant's access token arrives per request in `X-Graph-Token` (the orchestrator decrypts it
in memory); it is never stored or logged here.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any, Literal

from fastapi import APIRouter, Header, Query, Request
from nexus_common.errors import BadRequest, NexusError
from pydantic import BaseModel, Field, model_validator

from .graph import GraphClient, GraphResult

router = APIRouter(prefix="/v1", tags=["messages"])

_ID = r"^[0-9A-Za-z_.-]{1,64}$"


class Button(BaseModel):
    id: str = Field(min_length=1, max_length=256)
    title: str = Field(min_length=1, max_length=20)


class ListRow(BaseModel):
    id: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=24)
    description: str | None = Field(default=None, max_length=72)


class ListSection(BaseModel):
    title: str = Field(min_length=1, max_length=24)
    rows: list[ListRow] = Field(min_length=1, max_length=10)


class InteractiveList(BaseModel):
    button: str = Field(min_length=1, max_length=20)
    sections: list[ListSection] = Field(min_length=1, max_length=10)


class CtaUrl(BaseModel):
    display_text: str = Field(min_length=1, max_length=20)
    url: str = Field(max_length=2048, pattern=r"^https://")


class Template(BaseModel):
    name: str = Field(min_length=1, max_length=512)
    language: dict[str, str] = Field(default_factory=lambda: {"code": "es"})
    components: list[dict[str, Any]] = Field(default_factory=list)


class SendRequest(BaseModel):
    model_config = {"populate_by_name": True}

    channel: Literal["whatsapp", "instagram", "messenger"] = "whatsapp"
    account_id: str = Field(pattern=_ID)  # phone_number_id, page id or Instagram account id
    to: str = Field(min_length=1, max_length=128)
    type: Literal["text", "template", "buttons", "list", "cta_url", "image", "document"] = "text"
    text: str | None = Field(default=None, max_length=4096)
    template: Template | None = None
    buttons: list[Button] = Field(default_factory=list, max_length=3)
    list_: InteractiveList | None = Field(default=None, alias="list")
    cta_url: CtaUrl | None = None
    media_url: str | None = Field(default=None, max_length=2048, pattern=r"^https?://")
    caption: str | None = Field(default=None, max_length=1024)
    filename: str | None = Field(default=None, max_length=240)
    reply_to: str | None = Field(default=None, max_length=256)
    callback_data: str | None = Field(default=None, max_length=512)

    @model_validator(mode="after")
    def _complete(self) -> SendRequest:
        need = {
            "text": self.text,
            "template": self.template,
            "buttons": self.text and self.buttons,
            "list": self.text and self.list_,
            "cta_url": self.text and self.cta_url,
            "image": self.media_url,
            "document": self.media_url,
        }[self.type]
        if not need:
            raise ValueError(f"incomplete '{self.type}' message")
        if self.channel != "whatsapp" and self.type not in ("text", "image", "document"):
            raise ValueError(f"'{self.type}' is a WhatsApp-only message type")
        return self


class SendResponse(BaseModel):
    provider_message_id: str
    wa_id: str | None = None


class ReadRequest(BaseModel):
    account_id: str = Field(pattern=_ID)
    message_id: str = Field(min_length=1, max_length=256)
    typing: bool = False


def whatsapp_body(req: SendRequest) -> dict[str, Any]:
    body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": req.to}
    if req.type == "text":
        body.update(type="text", text={"preview_url": False, "body": req.text})
    elif req.type == "template":
        assert req.template is not None
        body.update(type="template", template=req.template.model_dump(exclude_defaults=False))
    elif req.type == "buttons":
        body.update(
            type="interactive",
            interactive={
                "type": "button",
                "body": {"text": req.text},
                "action": {"buttons": [{"type": "reply", "reply": b.model_dump()} for b in req.buttons]},
            },
        )
    elif req.type == "list":
        assert req.list_ is not None
        body.update(
            type="interactive",
            interactive={
                "type": "list",
                "body": {"text": req.text},
                "action": {
                    "button": req.list_.button,
                    "sections": [s.model_dump(exclude_none=True) for s in req.list_.sections],
                },
            },
        )
    elif req.type == "cta_url":
        assert req.cta_url is not None
        body.update(
            type="interactive",
            interactive={
                "type": "cta_url",
                "body": {"text": req.text},
                "action": {"name": "cta_url", "parameters": req.cta_url.model_dump()},
            },
        )
    else:
        media: dict[str, Any] = {"link": req.media_url}
        if req.caption:
            media["caption"] = req.caption
        if req.type == "document" and req.filename:
            media["filename"] = req.filename
        body.update(type=req.type, **{req.type: media})
    if req.reply_to:
        body["context"] = {"message_id": req.reply_to}
    if req.callback_data:
        body["biz_opaque_callback_data"] = req.callback_data
    return body


def meta_body(req: SendRequest) -> dict[str, Any]:
    if req.type == "text":
        message: dict[str, Any] = {"text": req.text}
    else:
        kind = "image" if req.type == "image" else "file"
        message = {"attachment": {"type": kind, "payload": {"url": req.media_url, "is_reusable": True}}}
    if req.callback_data:
        message["metadata"] = req.callback_data
    return {"recipient": {"id": req.to}, "messaging_type": "RESPONSE", "message": message}


def _raise_for(result: GraphResult) -> None:
    details = {"graph_status": result.status, "graph_code": result.error_code}
    if result.ambiguous:
        raise NexusError(
            "Graph did not answer in time; the message may have been sent",
            code="graph_timeout",
            status_code=504,
            details=details,
        )
    if result.retryable:
        raise NexusError(
            "Graph unavailable after retries", code="graph_unavailable", status_code=503, details=details
        )
    raise NexusError(
        result.error_message or "Graph rejected the request",
        code="graph_rejected",
        status_code=422,
        details=details,
    )


def _token(value: str | None) -> str:
    if not value or len(value) > 4096:
        raise BadRequest("X-Graph-Token header required", code="missing_graph_token")
    return value


@router.post("/messages", response_model=SendResponse)
async def send_message(
    req: SendRequest, request: Request, x_graph_token: str | None = Header(default=None)
) -> SendResponse:
    """Send one message with the tenant's token (`X-Graph-Token`). 422: Graph rejected it (final);
    503: Graph unavailable after retries (retry later); 504: timed out, fate unknown."""
    return await _send(request.app.state.graph, _token(x_graph_token), req)


class BatchRequest(BaseModel):
    messages: list[SendRequest] = Field(min_length=1, max_length=100)


@router.post("/messages/batch")
async def send_batch(
    req: BatchRequest, request: Request, x_graph_token: str | None = Header(default=None)
) -> dict[str, Any]:
    """Send up to 100 messages with one token, concurrently: one round trip for a campaign's
    slice instead of one per message. `results[i]` answers `messages[i]` as `POST /messages`
    would: `{"status": 200, "provider_message_id", "wa_id"}` or `{"status": 422|503|504|502,
    "error": {"code", "message", "details"}}`. The caller paces: every message goes to Graph now."""
    graph: GraphClient = request.app.state.graph
    token = _token(x_graph_token)

    async def one(item: SendRequest) -> dict[str, Any]:
        try:
            sent = await _send(graph, token, item)
        except NexusError as exc:
            error: dict[str, Any] = {"code": exc.code, "message": exc.message}
            if exc.details is not None:
                error["details"] = exc.details
            return {"status": exc.status_code, "error": error}
        return {"status": 200, **sent.model_dump()}

    return {"results": list(await asyncio.gather(*(one(m) for m in req.messages)))}


async def _send(graph: GraphClient, token: str, req: SendRequest) -> SendResponse:
    body = whatsapp_body(req) if req.channel == "whatsapp" else meta_body(req)
    result = await graph.post(f"{req.account_id}/messages", token, body)
    if not result.ok:
        _raise_for(result)
    data = result.body
    if req.channel == "whatsapp":
        msgs = data.get("messages")
        mid = msgs[0].get("id") if isinstance(msgs, list) and msgs and isinstance(msgs[0], dict) else None
        contacts = data.get("contacts")
        wa_id = contacts[0].get("wa_id") if isinstance(contacts, list) and contacts else None
    else:
        mid, wa_id = data.get("message_id"), None
    if not isinstance(mid, str):
        raise NexusError("Graph answered without a message id", code="graph_bad_response", status_code=502)
    return SendResponse(provider_message_id=mid, wa_id=wa_id if isinstance(wa_id, str) else None)


@router.post("/messages/read")
async def mark_read(
    req: ReadRequest, request: Request, x_graph_token: str | None = Header(default=None)
) -> dict[str, bool]:
    """Mark an inbound WhatsApp message as read (optionally showing the typing indicator)."""
    graph: GraphClient = request.app.state.graph
    body: dict[str, Any] = {"messaging_product": "whatsapp", "status": "read", "message_id": req.message_id}
    if req.typing:
        body["typing_indicator"] = {"type": "text"}
    result = await graph.post(f"{req.account_id}/messages", _token(x_graph_token), body)
    if not result.ok:
        _raise_for(result)
    return {"success": True}


TEMPLATE_FIELDS = "name,language,status,category,components,id"
MAX_TEMPLATE_PAGES = 50


@router.get("/templates")
async def list_templates(
    request: Request,
    waba_id: str = Query(pattern=_ID),
    x_graph_token: str | None = Header(default=None),
) -> dict[str, Any]:
    """Every message template of a WhatsApp Business Account (all pages), as Graph lists them:
    `{items: [{id, name, language, status, category, components}]}`. Pages are followed by their
    `after` cursor only (never by a URL from the response)."""
    graph: GraphClient = request.app.state.graph
    token = _token(x_graph_token)
    items: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(MAX_TEMPLATE_PAGES):
        params: dict[str, Any] = {"fields": TEMPLATE_FIELDS, "limit": 100}
        if after:
            params["after"] = after
        result = await graph.get(f"{waba_id}/message_templates", token, params)
        if not result.ok:
            _raise_for(result)
        data = result.body.get("data")
        if not isinstance(data, list):
            raise NexusError(
                "Graph answered an unexpected templates body", code="graph_bad_response", status_code=502
            )
        items.extend(t for t in data if isinstance(t, dict))
        paging = result.body.get("paging") if isinstance(result.body.get("paging"), dict) else {}
        cursors = paging.get("cursors") if isinstance(paging.get("cursors"), dict) else {}
        after = cursors.get("after") if paging.get("next") else None
        if not isinstance(after, str) or not after:
            break
    return {"items": items}


MESSAGING_LIMIT_FIELD = "whatsapp_business_manager_messaging_limit"


@router.get("/phone_numbers/{phone_number_id}/messaging_limit")
async def messaging_limit(
    phone_number_id: str, request: Request, x_graph_token: str | None = Header(default=None)
) -> dict[str, Any]:
    """The messaging limit Meta gives the number's business portfolio (unique users per moving
    24 h): `{"tier": "TIER_250" | "TIER_2K" | "TIER_10K" | "TIER_100K" | "TIER_UNLIMITED"}` as Graph
    answers `GET /{phone_number_id}?fields=whatsapp_business_manager_messaging_limit` (the
    replacement of the deprecated `messaging_limit_tier`)."""
    if not re.fullmatch(_ID, phone_number_id):
        raise BadRequest("invalid phone_number_id", code="invalid_phone_number_id")
    graph: GraphClient = request.app.state.graph
    result = await graph.get(phone_number_id, _token(x_graph_token), {"fields": MESSAGING_LIMIT_FIELD})
    if not result.ok:
        _raise_for(result)
    tier = result.body.get(MESSAGING_LIMIT_FIELD)
    if not isinstance(tier, str) or not tier:
        raise NexusError(
            "Graph did not return the messaging limit", code="graph_bad_response", status_code=502
        )
    return {"tier": tier[:32]}
