"""Telling "Postgres is unreachable" (→ 503, Meta retries) from real errors."""

from __future__ import annotations

import asyncio

from sqlalchemy import exc as sa_exc


def is_db_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, OSError | asyncio.TimeoutError | TimeoutError | ConnectionError):
        return True
    if isinstance(exc, sa_exc.TimeoutError):  # pool exhausted while connections hang
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
            return True
        orig = exc.orig
        name = type(orig).__name__ if orig is not None else ""
        return "Connection" in name or "CannotConnect" in name or "TooManyConnections" in name
    return False
