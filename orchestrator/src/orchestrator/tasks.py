"""Imports every domain's task module, so their tasks are registered with the job layer.

Imported by the entry points (the app and the CLI) before they build a job App; the job layer
itself imports no domain code.
"""

from __future__ import annotations

from .auth import tasks as auth_tasks  # noqa: F401
from .campaigns import tasks as campaign_tasks  # noqa: F401
from .conversations import tasks as conversation_tasks  # noqa: F401
from .integrations.tiendanube import tasks as tiendanube_tasks  # noqa: F401
from .notifications import orders as notification_steps  # noqa: F401 - registers the order-event step
from .pipeline import tasks as pipeline_tasks  # noqa: F401
from .recovery import tasks as recovery_tasks  # noqa: F401
from .retention import tasks as retention_tasks  # noqa: F401
from .sales import attribution as attribution_step  # noqa: F401 - registers the order-event step
from .templates import tasks as templates_tasks  # noqa: F401
