"""The orchestrator app: owns Postgres, Redis cache, webhooks, admin API and the pipeline."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator

import redis.asyncio as aioredis
import structlog
from fastapi import FastAPI
from nexus_common.app import create_service_app
from nexus_common.health import HealthRegistry
from nexus_common.logging import configure_logging
from nexus_common.settings import ConfigError, exit_on_config_error, load_settings
from sqlalchemy import text
from starlette.middleware import Middleware

from . import (
    runtime,
    tasks,  # noqa: F401 - registers every domain's tasks before the job App is built
)
from .campaigns import sender as campaign_sender
from .config import Settings
from .db import create_engine, create_sessionmaker
from .jobs import create_job_app
from .listeners.middleware import InternalListenerMiddleware
from .pipeline import maintenance
from .pipeline.clients import close_clients
from .pipeline.ingress import WebhookIngress
from .routers import include_routers
from .startup import FatalStartupError, SchemaState, prepare_database, prepare_until_ready

log = structlog.get_logger("orchestrator.app")

SERVICE = "orchestrator"


_frozen = False


def freeze_startup_objects() -> None:
    """Move what start-up built (modules, models, compiled queries, the app) out of the cyclic
    GC's reach: the collections that webhooks' allocations trigger no longer walk it (py-spy put
    the collections at up to ~10% of an ingest run). Once per process: a test process builds
    many apps, and frozen objects are never collected."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()


def create_app(settings: Settings | None = None) -> FastAPI:
    if settings is None:
        try:
            settings = load_settings(Settings)
        except ConfigError as exc:
            exit_on_config_error(exc, SERVICE)
    configure_logging(settings.log_level, SERVICE)

    engine = create_engine(settings.postgres_dsn.get_secret_value())
    maker = create_sessionmaker(engine)
    schema = SchemaState()
    redis_client = (
        aioredis.from_url(
            settings.redis_url.get_secret_value(), socket_timeout=1.0, socket_connect_timeout=1.0
        )
        if settings.redis_url
        else None
    )

    async def check_postgres() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def check_schema() -> None:
        if problem := schema.problem():
            raise RuntimeError(problem)

    async def check_redis() -> None:
        if redis_client is None:
            raise RuntimeError("REDIS_URL not set")
        await redis_client.ping()

    jobs = create_job_app(settings.postgres_dsn.get_secret_value())
    rt = runtime.Runtime(settings=settings, engine=engine, sessionmaker=maker, redis=redis_client)

    health = HealthRegistry()
    health.add("postgres", check_postgres)
    health.add("schema", check_schema)
    health.add("redis", check_redis, required=False)

    shutting_down = asyncio.Event()

    async def start_workers() -> None:
        """Open the queue and run this replica's workers until shutdown."""
        await jobs.open_async()
        if settings.nexus_worker_enabled:
            housekeeping = asyncio.create_task(maintenance.run_forever(rt, jobs))
            campaigns = asyncio.create_task(campaign_sender.supervise(rt))
            try:
                delay = 0.5
                while True:
                    # procrastinate stops its worker when Postgres drops the connection; this
                    # replica must pick work up again by itself once Postgres is back.
                    try:
                        await jobs.run_worker_async(
                            concurrency=settings.nexus_worker_concurrency,
                            install_signal_handlers=False,
                            wait=True,
                            name=f"orchestrator-{id(jobs):x}",
                            fetch_job_polling_interval=settings.nexus_worker_poll_seconds,
                            update_heartbeat_interval=settings.nexus_worker_heartbeat_seconds,
                            stalled_worker_timeout=settings.nexus_worker_stalled_seconds,
                            # On shutdown, running jobs get this long, then are aborted; another
                            # replica retries them (stalled-worker recovery). Never hang a stop.
                            shutdown_graceful_timeout=10.0,
                        )
                    except asyncio.CancelledError:
                        raise
                    except Exception as exc:  # noqa: BLE001 - restart after any worker failure
                        log.warning("worker.failed", error=type(exc).__name__, restart_in=delay)
                    # procrastinate turns a cancellation into a clean stop and returns: on shutdown
                    # that must end the loop, not restart the worker.
                    task = asyncio.current_task()
                    if shutting_down.is_set() or (task is not None and task.cancelling()):
                        return
                    log.warning("worker.stopped", restart_in=delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 10.0)
            finally:
                for task in (housekeeping, campaigns):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    bff_password = settings.bff_db_password.get_secret_value() if settings.bff_db_password else None

    async def prepare_then_work() -> None:
        await prepare_until_ready(
            engine, maker, settings.crypto, schema, settings.nexus_migrations_dir, bff_password=bff_password
        )
        await start_workers()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime.install(rt)
        background: asyncio.Task[None] | None = None
        try:
            # Postgres up at start: migrate now, and a wrong ENCRYPTION_KEY fails start-up loudly.
            await prepare_database(
                engine, maker, settings.crypto, schema, settings.nexus_migrations_dir, bff_password
            )
            background = asyncio.create_task(start_workers())
            freeze_startup_objects()
        except FatalStartupError as exc:
            log.error("startup.fatal", reason=str(exc))
            raise
        except Exception as exc:  # noqa: BLE001 - Postgres not reachable yet: keep trying
            schema.last_error = type(exc).__name__
            log.warning("startup.database_unavailable", error=type(exc).__name__)
            background = asyncio.create_task(prepare_then_work())
        try:
            yield
        finally:
            shutting_down.set()
            if background:
                background.cancel()
                # A stop must never hang on a stuck job or connection: bounded, then move on.
                with contextlib.suppress(asyncio.CancelledError, FatalStartupError, TimeoutError):
                    await asyncio.wait_for(background, 20)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(jobs.close_async(), 10)
            gc = getattr(app.state, "webhook_group_commit", None)
            if gc is not None:
                await gc.close()
            await close_clients(rt)
            if redis_client is not None:
                await redis_client.aclose()
            await engine.dispose()

    app = create_service_app(
        service=SERVICE,
        version=settings.app_version,
        settings=settings,
        health=health,
        internal_token=None,  # public service: internal routers declare the token dependency
        lifespan=lifespan,
        description="Nexus orchestrator: webhooks, pipeline, dashboard and admin API.",
    )
    include_routers(app)
    # Innermost of the user middleware (appended, not `add_middleware`, which puts it outermost):
    # webhooks still pass the request-id and body-size layers, then skip the router.
    app.user_middleware.append(Middleware(WebhookIngress))
    if settings.nexus_internal_port is not None:
        app.add_middleware(InternalListenerMiddleware, internal_port=settings.nexus_internal_port)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = maker
    app.state.schema = schema
    app.state.redis = redis_client
    app.state.jobs = jobs
    app.state.runtime = rt
    return app
