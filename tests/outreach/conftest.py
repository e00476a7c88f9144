"""Reaching-out tests run the real services on loopback: the pipeline stack (fake Graph,
whatsapp_service, an instant agent, a uvicorn orchestrator) and, for order updates and cart
recovery, the fake Tienda Nube behind tiendanube_service."""

from __future__ import annotations

from ..pipeline.conftest import stack, stack_factory  # noqa: F401 - shared fixtures
