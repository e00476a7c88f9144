"""The job layer: task names and lock keys (`names`), the one transactional `defer`, the job-app
factory and the task registry. It imports no domain code; domains import it."""

from __future__ import annotations

from . import names
from .app import JOBS_SCHEMA, create_job_app, task
from .defer import defer, defer_many

__all__ = ["JOBS_SCHEMA", "create_job_app", "defer", "defer_many", "names", "task"]
