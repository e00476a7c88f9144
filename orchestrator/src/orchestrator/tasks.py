"""Imports every module that declares job blueprints, so workers know every task."""

from __future__ import annotations

from .pipeline import tasks as pipeline_tasks  # noqa: F401
from .recovery import tasks as _recovery_tasks  # noqa: F401
from .staff import tasks as staff_tasks  # noqa: F401
from .templates import tasks as _templates_tasks  # noqa: F401
from .tiendanube import tasks as _tiendanube_tasks  # noqa: F401
