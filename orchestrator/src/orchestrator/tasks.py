"""Imports every module that declares job blueprints, so workers know every task."""

from __future__ import annotations

from .campaigns import tasks as _campaign_tasks  # noqa: F401
from .pipeline import tasks as pipeline_tasks  # noqa: F401
from .staff import tasks as staff_tasks  # noqa: F401
from .templates import tasks as _templates_tasks  # noqa: F401
from .tiendanube import tasks as _tiendanube_tasks  # noqa: F401
