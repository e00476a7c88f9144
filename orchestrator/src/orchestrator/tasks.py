"""Imports every module that declares job blueprints, so workers know every task."""

from __future__ import annotations

from .tiendanube import tasks as _tiendanube_tasks  # noqa: F401
