"""`POST /api/v1/playground/messages`: a simulated customer writes to a tenant's WhatsApp number.

The message goes through the very same pipeline as a real webhook (stored raw event → ingest →
debounced turn → outbox → whatsapp_service → Graph at WHATSAPP_GRAPH_URL). In development that URL
is the fake Graph server, which records the reply for the demo's simulated customer.
"""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Request
from nexus_common.errors import Conflict, NotFound, ServiceUnavailable
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ..auth import Agent
from ..models import ChannelAccount, Tenant
from ..pipeline.accounts import Account
from ..pipeline.dbutil import is_db_unavailable
from ..pipeline.endpoints import store_and_enqueue
from ..pipeline.parsing import parse_whatsapp

router = APIRouter(prefix="/api/v1/playground", tags=["playground"])

DEFAULT_WA_ID = "5491100000000"


class PlaygroundMessage(BaseModel):
    text: Annotated[str, Field(min_length=1, max_length=4096)]
    wa_id: Annotated[str, Field(pattern=r"^[0-9]{8,15}$")] = DEFAULT_WA_ID
    name: Annotated[str, Field(max_length=200)] = "Playground"
    # A row the simulated customer chose in a list message (its id; `text` is the row's title).
    reply_id: Annotated[str | None, Field(max_length=200)] = None


class PlaygroundAccepted(BaseModel):
    message_id: str
    phone_number_id: str
    wa_id: str


def _message(body: PlaygroundMessage, message_id: str) -> dict[str, Any]:
    """The customer's message as WhatsApp delivers it: a text, or a list row chosen."""
    msg: dict[str, Any] = {"from": body.wa_id, "id": message_id, "timestamp": str(int(time.time()))}
    if body.reply_id:
        reply = {"id": body.reply_id, "title": body.text[:24]}
        return {**msg, "type": "interactive", "interactive": {"type": "list_reply", "list_reply": reply}}
    return {**msg, "type": "text", "text": {"body": body.text}}


@router.post("/messages", status_code=202, response_model=PlaygroundAccepted)
async def post_message(body: PlaygroundMessage, request: Request, principal: Agent) -> PlaygroundAccepted:
    """Run the full pipeline for a simulated customer of the caller's store (role: agent).
    The store needs a WhatsApp channel; the reply is sent through it like any other."""
    tenant_id = principal.tenant
    maker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    message_id = f"wamid.playground.{uuid.uuid4().hex}"
    try:
        async with maker() as session, session.begin():
            if await session.get(Tenant, tenant_id) is None:
                raise NotFound("tenant not found")
            row = await session.scalar(
                select(ChannelAccount)
                .where(ChannelAccount.tenant_id == tenant_id, ChannelAccount.channel == "whatsapp")
                .order_by(ChannelAccount.created_at)
                .limit(1)
            )
            if row is None:
                raise Conflict("configure the tenant's WhatsApp channel first")
            payload = {
                "object": "whatsapp_business_account",
                "entry": [
                    {
                        "id": "playground",
                        "changes": [
                            {
                                "field": "messages",
                                "value": {
                                    "messaging_product": "whatsapp",
                                    "metadata": {
                                        "display_phone_number": "",
                                        "phone_number_id": row.external_id,
                                    },
                                    "contacts": [{"profile": {"name": body.name}, "wa_id": body.wa_id}],
                                    "messages": [_message(body, message_id)],
                                },
                            }
                        ],
                    }
                ],
            }
            account = Account(
                row.id, row.tenant_id, row.channel, row.external_id, row.enabled, dict(row.settings)
            )
            await store_and_enqueue(
                session,
                "whatsapp",
                message_id.encode(),
                payload,
                parse_whatsapp(payload),
                {("whatsapp", row.external_id): account},
            )
    except (NotFound, Conflict):
        raise
    except Exception as exc:
        if is_db_unavailable(exc):
            raise ServiceUnavailable("storage unavailable, retry later") from None
        raise
    return PlaygroundAccepted(message_id=message_id, phone_number_id=row.external_id, wa_id=body.wa_id)
