"""HTTP routes of the Tienda Nube domain (thin: the work is in install/webhooks/orders)."""

from __future__ import annotations

import html
import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

import structlog
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from nexus_common.errors import BadRequest, NexusError, ServiceUnavailable, Unauthorized
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, OperationalError

from ...auth import require_super_admin
from ...db import Session
from ...deps import AppSettings, InternalOnly
from ...models import Tenant
from ...rejections import service as rejections
from . import install, webhooks
from .client import TiendanubeError, service_client
from .orders import OrderSummary, find_customer_orders

log = structlog.get_logger("orchestrator.tiendanube.endpoints")

router = APIRouter(tags=["tiendanube"])

ERROR_PAGE = """<!doctype html>
<html lang="es"><head><meta charset="utf-8"><title>Nexus · Tienda Nube</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}}
h1{{font-size:1.4rem}}p{{line-height:1.5}}</style></head>
<body><h1>No pudimos conectar tu tienda</h1><p>{message}</p>
<p>Volvé a instalar la aplicación desde tu panel de Tienda Nube. Si el problema sigue,
escribinos indicando este código: <code>{ref}</code>.</p>
<p lang="en"><small>We could not connect your store: {message_en}</small></p></body></html>"""


def _error_page(request: Request, status: int, message: str, message_en: str) -> HTMLResponse:
    ref = getattr(request.state, "request_id", "") or ""
    body = ERROR_PAGE.format(
        message=html.escape(message), message_en=html.escape(message_en), ref=html.escape(ref)
    )
    return HTMLResponse(body, status_code=status)


@router.get("/oauth/tiendanube/callback", include_in_schema=True)
async def oauth_callback(
    request: Request,
    settings: AppSettings,
    code: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    """App install: exchange the code, create or update the tenant, register webhooks, start the
    first catalog sync, then redirect to the dashboard. Failures show a readable page."""
    if not code:
        return _error_page(
            request, 400, "Falta el código de autorización.", "the authorization code is missing."
        )
    maker = request.app.state.sessionmaker
    try:
        async with service_client(settings, request_timeout=60.0) as client:
            granted = await client.exchange_code(code)
            store_id, token = int(granted["store_id"]), str(granted["access_token"])
            info, hooks = await install.gather(client, settings, store_id, token)
        async with maker() as session, session.begin():
            done = await install.connect_store(
                session,
                settings,
                store_id=store_id,
                token=token,
                info=info,
                webhooks=hooks,
                actor="tiendanube",
            )
    except TiendanubeError as exc:
        log.warning("tiendanube.install_failed", code=exc.code, status=exc.status_code)
        if exc.status_code in (400, 422) or exc.code == "invalid_grant":
            return _error_page(
                request,
                400,
                "Tienda Nube rechazó la autorización (el código venció o ya se usó).",
                "Tienda Nube refused the authorization (the code expired or was already used).",
            )
        return _error_page(
            request,
            502,
            "Tienda Nube no respondió como esperábamos. Probá de nuevo en unos minutos.",
            "Tienda Nube did not answer as expected; try again in a few minutes.",
        )
    except (OperationalError, DBAPIError, OSError) as exc:
        log.error("tiendanube.install_db_failed", error=type(exc).__name__)
        return _error_page(
            request,
            503,
            "Nuestro sistema no está disponible en este momento. Probá de nuevo en unos minutos.",
            "our system is unavailable right now; try again in a few minutes.",
        )
    base = (settings.dashboard_url or settings.api_base_url).rstrip("/")
    query = urlencode({"installed": "tiendanube", "tenant_id": str(done.tenant_id)})
    return RedirectResponse(f"{base}/?{query}", status_code=303)


@router.post("/webhooks/tiendanube")
async def tiendanube_webhook(
    request: Request, settings: AppSettings, event: Annotated[str | None, Query(max_length=40)] = None
) -> JSONResponse:
    """Store events and privacy requests, HMAC-verified (`x-linkedstore-hmac-sha256`), stored,
    then processed by a job. Unverified → 401, counted per minute (webhook_rejections)."""
    body = await request.body()
    secret = (
        settings.tiendanube_client_secret.get_secret_value() if settings.tiendanube_client_secret else None
    )
    maker = request.app.state.sessionmaker
    if not webhooks.signature_valid(secret, body, request.headers.get(webhooks.SIGNATURE_HEADER)):
        await rejections.count(maker, "tiendanube", "bad or missing signature")
        raise Unauthorized("invalid webhook signature")
    payload = webhooks.parse_body(body)
    if payload is None:
        raise BadRequest("body must be a JSON object")
    topic = webhooks.topic_of(payload, event)
    if topic is None or webhooks.store_id_of(payload) is None:
        raise BadRequest("unrecognised Tienda Nube event")
    try:
        async with maker() as session, session.begin():
            # The event and its processing job commit together (or neither does).
            event_id, tenant_id = await webhooks.store_event(session, body, payload, topic)
            if event_id is not None:
                await webhooks.defer_event(
                    session, event_id, tenant_id, webhooks.resource_key(payload, topic)
                )
    except (OperationalError, DBAPIError, OSError) as exc:
        # Not stored → not acknowledged: Tienda Nube retries.
        log.error("tiendanube.webhook_store_failed", error=type(exc).__name__)
        raise ServiceUnavailable("could not store the event") from None
    return JSONResponse({"ok": True, "duplicate": event_id is None and tenant_id is not None})


class ManualConnection(BaseModel):
    store_id: int = Field(gt=0, lt=10**15)
    access_token: str = Field(min_length=8, max_length=512)


@router.put("/api/v1/tenants/{tenant_id}/tiendanube", dependencies=[Depends(require_super_admin)])
async def connect_by_hand(
    tenant_id: uuid.UUID, body: ManualConnection, settings: AppSettings, session: Session
) -> dict[str, Any]:
    """Connect a store by hand (store id + access token) instead of the OAuth install.
    The token is checked against Tienda Nube and stored encrypted; webhooks and a sync start."""
    if await session.get(Tenant, tenant_id) is None:
        raise NexusError("tenant not found", code="not_found", status_code=404)
    try:
        async with service_client(settings, request_timeout=60.0) as client:
            info, hooks = await install.gather(client, settings, body.store_id, body.access_token)
    except TiendanubeError as exc:
        if exc.code in ("upstream_unauthorized", "not_found"):
            raise BadRequest("Tienda Nube refused this store id and access token") from None
        raise
    done = await install.connect_store(
        session,
        settings,
        store_id=body.store_id,
        token=body.access_token,
        info=info,
        webhooks=hooks,
        tenant_id=tenant_id,
        actor="super_admin",
    )
    return {
        "tenant_id": str(done.tenant_id),
        "store_id": done.store_id,
        "webhooks": done.webhooks,
        "sync_id": str(done.sync_id),
    }


internal_router = APIRouter(prefix="/internal", tags=["internal"], dependencies=[InternalOnly])


@internal_router.get("/customers/{customer_id}/orders")
async def customer_orders(
    customer_id: uuid.UUID,
    tenant_id: uuid.UUID,
    session: Session,
    number: Annotated[str | None, Query(max_length=20)] = None,
) -> dict[str, list[OrderSummary]]:
    """The customer's orders (matched by phone or e-mail); with `number`, that order only if it is theirs."""
    try:
        return {"items": await find_customer_orders(session, tenant_id, customer_id, number)}
    except TiendanubeError as exc:
        if exc.retryable or exc.status_code >= 500:
            raise ServiceUnavailable("Tienda Nube is not reachable right now") from None
        raise
