"""`PUT /api/v1/customers/{id}/consent`: staff record a customer's consent by hand."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter
from nexus_common.errors import NotFound
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from ..audit import service as audit
from ..auth import Agent
from ..db import Session
from ..models import Customer
from . import service

router = APIRouter(prefix="/api/v1/customers", tags=["customers"])


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
    changed = await service.record(
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
    return {"changed": changed, **await service.panel(session, principal.tenant, customer_id)}
