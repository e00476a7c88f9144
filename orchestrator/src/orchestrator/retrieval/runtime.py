"""The process-wide Retrieval service, built from the running orchestrator's runtime."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from .. import runtime
from ..catalog import hooks
from .service import Retrieval


def get_retrieval() -> Retrieval:
    rt = runtime.current()
    if rt.retrieval is None:
        rt.retrieval = Retrieval(rt.settings, rt.sessionmaker)
    return rt.retrieval


@hooks.register
async def on_products_changed(
    tenant_id: uuid.UUID, changed: Sequence[uuid.UUID], deleted: Sequence[uuid.UUID]
) -> None:
    await get_retrieval().on_catalog_change(tenant_id, changed, deleted)


async def rebuild_index(tenant_id: uuid.UUID) -> int:
    """For `resync_catalog` and the CLI: rebuild the tenant's vector index from Postgres."""
    return await get_retrieval().rebuild(tenant_id)
