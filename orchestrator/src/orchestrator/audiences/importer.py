"""CSV import of customers with their consent: each row validated and normalised, whole or not at all.

Columns `phone,name,language,consent_source` and an optional `tags` (`;`-separated). Phones are
folded onto the pipeline's canonical E.164 (`phones.to_e164`), so an imported customer who later
writes on WhatsApp is the same customer. A bad row is reported by its line (the header is line 1)
and changes nothing; the good rows are written in the caller's one transaction. An import never
opts a customer back in who opted out.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from nexus_common.errors import BadRequest
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import ChannelIdentity, Customer, CustomerTag
from ..phones import to_e164
from . import reach
from .schemas import ImportResponse, RejectedRow

REQUIRED = ("phone", "name", "language", "consent_source")
MAX_ROWS = 50_000
CHUNK = 2_000
_LANG = re.compile(r"^[a-z]{2}([_-][A-Za-z]{2})?$")
_TAG = re.compile(r"^[\w .-]{1,64}$")
_SOURCE = re.compile(r"^[\w .:/-]{1,40}$")


@dataclass
class Row:
    line: int
    e164: str
    name: str | None
    language: str | None
    source: str
    tags: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.e164.lstrip("+")


def parse(text: str, default_region: str = "AR") -> tuple[list[Row], list[RejectedRow]]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise BadRequest("empty CSV: expected a header line", code="csv_empty") from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise BadRequest(
            f"CSV header lacks column(s): {', '.join(missing)}",
            code="csv_header",
            details={"expected": [*REQUIRED, "tags"], "missing": missing},
        )
    col = {name: header.index(name) for name in (*REQUIRED, "tags") if name in header}
    rows: list[Row] = []
    rejected: list[RejectedRow] = []
    seen: dict[str, int] = {}
    try:
        for record in reader:
            line = reader.line_num
            if not any(v.strip() for v in record):
                continue
            if len(rows) + len(rejected) >= MAX_ROWS:
                raise BadRequest(f"at most {MAX_ROWS} rows per import", code="csv_too_many_rows")

            def get(name: str, record: list[str] = record) -> str:
                i = col.get(name)
                return record[i].strip() if i is not None and i < len(record) else ""

            row, reason = _row(line, get, default_region)
            if row is None:
                rejected.append(RejectedRow(line=line, reason=reason))
            elif row.key in seen:
                rejected.append(RejectedRow(line=line, reason=f"duplicate of line {seen[row.key]}"))
            else:
                seen[row.key] = line
                rows.append(row)
    except csv.Error as exc:
        raise BadRequest(f"malformed CSV at line {reader.line_num}: {exc}", code="csv_malformed") from None
    return rows, rejected


def _row(line: int, get: Any, region: str) -> tuple[Row | None, str]:
    phone = get("phone")
    if not phone:
        return None, "phone is empty"
    e164 = to_e164(phone, region)
    if e164 is None:
        return None, "phone is not a valid phone number"
    name = get("name") or None
    if name is not None and len(name) > 200:
        return None, "name is longer than 200 characters"
    language = get("language").replace("-", "_") or None
    if language is not None and not _LANG.match(language):
        return None, "language must be a code such as es, pt, en or es_AR"
    source = get("consent_source")
    if not source:
        return None, "consent_source is empty (where did this customer opt in?)"
    if not _SOURCE.match(source):
        return None, "consent_source must be up to 40 letters, digits or . : / -"
    tags = sorted({t.strip().lower() for t in get("tags").split(";") if t.strip()})
    bad = [t for t in tags if not _TAG.match(t)]
    if bad:
        return None, f"tag {bad[0][:70]!r} is not up to 64 letters, digits, spaces or . -"
    return Row(line, e164, name, language, source, tags), ""


async def apply(
    session: AsyncSession, tenant_id: uuid.UUID, text: str, actor: str, region: str = "AR"
) -> ImportResponse:
    rows, rejected = parse(text, region)
    imported = 0
    for start in range(0, len(rows), CHUNK):
        imported += await _apply_chunk(session, tenant_id, rows[start : start + CHUNK], rejected, actor)
    rejected.sort(key=lambda r: r.line)
    return ImportResponse(imported=imported, rejected=rejected)


async def _apply_chunk(
    session: AsyncSession, tenant_id: uuid.UUID, rows: list[Row], rejected: list[RejectedRow], actor: str
) -> int:
    keys = [r.key for r in rows]
    by_key: dict[str, uuid.UUID] = {
        ext: cid
        for ext, cid in (
            await session.execute(
                select(ChannelIdentity.external_id, ChannelIdentity.customer_id).where(
                    ChannelIdentity.tenant_id == tenant_id,
                    ChannelIdentity.channel == "whatsapp",
                    ChannelIdentity.external_id.in_(keys),
                )
            )
        ).all()
    }
    for phone, cid in (
        await session.execute(
            select(Customer.phone_number, Customer.id)
            .where(Customer.tenant_id == tenant_id, Customer.phone_number.in_([r.e164 for r in rows]))
            .order_by(Customer.created_at)
        )
    ).all():
        if phone:
            by_key.setdefault(phone.lstrip("+"), cid)
    opted_out = await reach.opted_out_among(session, list(by_key.values()))
    accepted: list[tuple[Row, uuid.UUID]] = []
    new_customers: list[dict[str, Any]] = []
    for r in rows:
        known = by_key.get(r.key)
        if known is not None and known in opted_out:
            rejected.append(
                RejectedRow(line=r.line, reason="customer opted out; an import cannot opt them in again")
            )
            continue
        if known is None:
            cid = uuid.uuid4()
            new_customers.append(
                {
                    "id": cid,
                    "tenant_id": tenant_id,
                    "phone_number": r.e164,
                    "name": r.name,
                    "locale": r.language,
                }
            )
        else:
            cid = known
            await session.execute(
                update(Customer)
                .where(Customer.id == cid)
                .values(
                    name=Customer.name if r.name is None else r.name,
                    locale=Customer.locale if r.language is None else r.language,
                )
            )
        accepted.append((r, cid))
    if new_customers:
        await session.execute(insert(Customer), new_customers)
    if accepted:
        await session.execute(
            insert(ChannelIdentity)
            .values(
                [
                    {"tenant_id": tenant_id, "customer_id": cid, "channel": "whatsapp", "external_id": r.key}
                    for r, cid in accepted
                ]
            )
            .on_conflict_do_nothing(index_elements=["tenant_id", "channel", "external_id"])
        )
        await reach.opt_in_imported(session, tenant_id, [(cid, r.source) for r, cid in accepted], actor)
        tags = [{"tenant_id": tenant_id, "customer_id": cid, "tag": t} for r, cid in accepted for t in r.tags]
        for start in range(0, len(tags), CHUNK):
            await session.execute(
                insert(CustomerTag)
                .values(tags[start : start + CHUNK])
                .on_conflict_do_nothing(index_elements=["tenant_id", "customer_id", "tag"])
            )
    return len(accepted)
