"""Audiences: CSV import of customers with consent, customer tags, and the audience preview."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from nexus_common.errors import BadRequest, NexusError, NotFound
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from ..audit import service as audit
from ..auth import Admin, Agent
from ..db import Session
from ..models import Customer, CustomerTag
from . import importer
from . import service as audiences
from .schemas import ImportResponse, PreviewRequest, PreviewResponse

router = APIRouter(prefix="/api/v1", tags=["audiences"])


@router.post("/customers/import", response_model=ImportResponse)
async def import_customers(request: Request, principal: Admin, session: Session) -> ImportResponse:
    """Import customers from a CSV body (`Content-Type: text/csv`): columns
    `phone,name,language,consent_source` and an optional `tags` (`;`-separated). Each valid row is
    imported whole (customer, WhatsApp identity, opt-in with its source, tags); a bad row is
    reported by its line in `rejected` and changes nothing."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("text/csv", "text/plain", "application/csv"):
        raise NexusError(
            "send the CSV as the request body with Content-Type: text/csv",
            code="unsupported_media_type",
            status_code=415,
        )
    raw = await request.body()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadRequest("the CSV must be UTF-8", code="csv_encoding") from None
    result = await importer.apply(session, principal.tenant, text, principal.actor)
    await audit.record(
        session,
        actor=principal.actor,
        action="customers.import",
        tenant_id=principal.tenant,
        payload={"imported": result.imported, "rejected": len(result.rejected)},
    )
    return result


@router.post("/audiences/preview", response_model=PreviewResponse)
async def preview(body: PreviewRequest, principal: Agent, session: Session) -> PreviewResponse:
    """How many customers the filter selects and a sample of them (opted-out customers never
    count). Filter keys, all optional and ANDed: `channel`, `language`, `opted_in`, `tags`,
    `active_within_days`, `customer_ids`, and the order keys `bought_product_ids`,
    `last_order_before`, `last_order_after`."""
    return await audiences.preview(session, principal.tenant, body.filter)


class TagsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tags: list[str] = Field(max_length=50)


@router.put("/customers/{customer_id}/tags")
async def put_tags(
    customer_id: uuid.UUID, body: TagsBody, principal: Agent, session: Session
) -> dict[str, list[str]]:
    """Replace a customer's tags (lower-cased, up to 64 characters each)."""
    cid = await session.scalar(
        select(Customer.id).where(Customer.id == customer_id, Customer.tenant_id == principal.tenant)
    )
    if cid is None:
        raise NotFound("customer not found")
    tags = sorted({t.strip().lower() for t in body.tags if t.strip()})
    if any(len(t) > 64 for t in tags):
        raise BadRequest("a tag is at most 64 characters", code="tag_too_long")
    await session.execute(delete(CustomerTag).where(CustomerTag.customer_id == cid))
    if tags:
        await session.execute(
            insert(CustomerTag).values(
                [{"tenant_id": principal.tenant, "customer_id": cid, "tag": t} for t in tags]
            )
        )
    return {"tags": tags}
