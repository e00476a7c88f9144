"""`GET /api/v1/customers/{id}`: the dashboard's customer panel (identities and store orders)."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter
from nexus_common.errors import NotFound
from nexus_common.logging import mask_email, mask_phone
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from ..audit import service as audit
from ..auth import Agent, Viewer
from ..consent import service as consent
from ..db import Session
from ..integrations.tiendanube.client import TiendanubeError
from ..integrations.tiendanube.orders import find_customer_orders
from ..models import ChannelIdentity, Customer

router = APIRouter(prefix="/api/v1/customers", tags=["customers"])


@router.get("/{customer_id}")
async def get_customer(customer_id: uuid.UUID, principal: Viewer, session: Session) -> dict[str, Any]:
    """One customer of your store: name, masked phone, identities on each channel (masked), and their
    latest orders from Tienda Nube (`orders_error` says why they could not be fetched), and their
    WhatsApp consent (`consent.whatsapp.state`: opted_in, opted_out or unknown) with its history."""
    customer = await session.scalar(
        select(Customer).where(Customer.id == customer_id, Customer.tenant_id == principal.tenant)
    )
    if customer is None:
        raise NotFound("customer not found")
    identities = (
        await session.scalars(
            select(ChannelIdentity)
            .where(ChannelIdentity.customer_id == customer.id, ChannelIdentity.tenant_id == principal.tenant)
            .order_by(ChannelIdentity.created_at)
        )
    ).all()
    orders: list[dict[str, Any]] = []
    orders_error: str | None = None
    try:
        found = await find_customer_orders(session, principal.tenant, customer.id)
        orders = [o.model_dump(mode="json") for o in found]
    except TiendanubeError as exc:  # the store is unreachable: the panel says so, the rest shows
        orders_error = exc.code
    return {
        "id": customer.id,
        "name": customer.name,
        "phone_number": mask_phone(customer.phone_number) if customer.phone_number else None,
        "email": mask_email(customer.email) if customer.email else None,
        "identities": [
            {
                "channel": i.channel,
                "external_id": mask_phone(i.external_id) if i.channel == "whatsapp" else i.external_id,
                "display_name": i.display_name,
            }
            for i in identities
        ],
        "orders": orders,
        "orders_error": orders_error,
        **await consent.panel(session, principal.tenant, customer.id),  # consent + its history
    }


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: Literal["opted_in", "opted_out"]
    channel: Literal["whatsapp", "instagram", "messenger"] = "whatsapp"


@router.put("/{customer_id}/consent")
async def put_consent(
    customer_id: uuid.UUID, body: ConsentIn, principal: Agent, session: Session
) -> dict[str, Any]:
    """Record the customer's consent as told to a person (source `staff`), e.g. on the phone."""
    found = await session.scalar(
        select(Customer.id).where(Customer.id == customer_id, Customer.tenant_id == principal.tenant)
    )
    if found is None:
        raise NotFound("customer not found")
    changed = await consent.record(
        session,
        principal.tenant,
        customer_id,
        body.state,
        "staff",
        channel=body.channel,
        actor=principal.actor,
    )
    await audit.record(
        session,
        actor=principal.actor,
        action="customer.consent_set",
        tenant_id=principal.tenant,
        target_type="customer",
        target_id=str(customer_id),
        payload={"state": body.state, "channel": body.channel, "changed": changed},
    )
    return {"changed": changed, **await consent.panel(session, principal.tenant, customer_id)}
