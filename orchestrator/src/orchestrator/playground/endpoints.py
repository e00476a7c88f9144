"""`POST /api/v1/playground/messages`: a simulated customer writes to a tenant's WhatsApp number.

The message goes through the very same pipeline as a real webhook (stored raw event → ingest →
debounced turn → outbox). The customer is the caller's own sandbox identity (sandbox/service.py),
never a number the caller picks: the outbox settles replies to it without calling WhatsApp, so a
playground conversation never reaches a real person.
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

from ..auth import Agent, Principal
from ..db import Session
from ..models import ChannelAccount, ChannelIdentity, ChatConversation, Tenant
from ..pipeline.accounts import Account
from ..pipeline.dbutil import is_db_unavailable
from ..pipeline.endpoints import store_and_enqueue
from ..pipeline.parsing import parse_whatsapp
from ..sandbox import service as sandbox

router = APIRouter(prefix="/api/v1/playground", tags=["playground"])


class PlaygroundMessage(BaseModel):
    text: Annotated[str, Field(min_length=1, max_length=4096)]
    name: Annotated[str, Field(max_length=200)] = "Playground"
    # A row the simulated customer chose in a list message (its id; `text` is the row's title).
    reply_id: Annotated[str | None, Field(max_length=200)] = None


class PlaygroundIdentity(BaseModel):
    wa_id: str
    conversation_id: uuid.UUID | None


def _wa_id(principal: Principal) -> str:
    return sandbox.wa_id_for(principal.tenant, str(principal.user_id or "super_admin"))


@router.get("/identity")
async def identity(principal: Agent, session: Session) -> PlaygroundIdentity:
    """The caller's sandbox customer in this store and its conversation (once it has one)."""
    wa_id = _wa_id(principal)
    conversation_id = await session.scalar(
        select(ChatConversation.id)
        .join(ChannelIdentity, ChannelIdentity.customer_id == ChatConversation.customer_id)
        .where(
            ChannelIdentity.tenant_id == principal.tenant,
            ChannelIdentity.channel == "whatsapp",
            ChannelIdentity.external_id == wa_id,
            ChatConversation.channel == "whatsapp",
        )
        .order_by(ChatConversation.created_at.desc())
        .limit(1)
    )
    return PlaygroundIdentity(wa_id=wa_id, conversation_id=conversation_id)


class PlaygroundAccepted(BaseModel):
    message_id: str
    phone_number_id: str
    wa_id: str


def _message(body: PlaygroundMessage, wa_id: str, message_id: str) -> dict[str, Any]:
    """The customer's message as WhatsApp delivers it: a text, or a list row chosen."""
    msg: dict[str, Any] = {"from": wa_id, "id": message_id, "timestamp": str(int(time.time()))}
    if body.reply_id:
        reply = {"id": body.reply_id, "title": body.text[:24]}
        return {**msg, "type": "interactive", "interactive": {"type": "list_reply", "list_reply": reply}}
    return {**msg, "type": "text", "text": {"body": body.text}}


@router.post("/messages", status_code=202, response_model=PlaygroundAccepted)
async def post_message(body: PlaygroundMessage, request: Request, principal: Agent) -> PlaygroundAccepted:
    """Run the full pipeline as the caller's sandbox customer of their store (role: agent). The
    store needs a WhatsApp channel; replies are recorded, never sent to WhatsApp."""
    tenant_id = principal.tenant
    wa_id = _wa_id(principal)
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
                                    "contacts": [{"profile": {"name": body.name}, "wa_id": wa_id}],
                                    "messages": [_message(body, wa_id, message_id)],
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
    return PlaygroundAccepted(message_id=message_id, phone_number_id=row.external_id, wa_id=wa_id)
