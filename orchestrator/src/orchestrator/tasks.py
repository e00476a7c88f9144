"""Imports every module that declares job blueprints, so workers know every task."""

from __future__ import annotations

from .auth import tasks as _auth_tasks  # noqa: F401
from .pipeline import tasks as pipeline_tasks  # noqa: F401
from .retention import tasks as _retention_tasks  # noqa: F401
from .staff import tasks as staff_tasks  # noqa: F401
from .tiendanube import tasks as _tiendanube_tasks  # noqa: F401
