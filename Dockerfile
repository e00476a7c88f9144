# syntax=docker/dockerfile:1
# The image of every Python service: orchestrator, agent_service, whatsapp_service,
# tiendanube_service, bff. Built from the repository root with the service and its port as
# build arguments (docker-compose.yml passes them), e.g.
#   docker build --build-arg SERVICE=bff --build-arg PORT=3000 .
#   docker build --build-arg SERVICE=orchestrator --build-arg PORT=8000 --target orchestrator .
# The pattern of fastapi/full-stack-fastapi-template: uv installs the service from the
# workspace's one lockfile, then only the virtualenv goes into the runtime image.
# nginx/Dockerfile (the dashboard) is separate.

# The workspace member directory (also the import name): its package is nexus-<SERVICE>
# (uv normalises nexus-agent_service to nexus-agent-service).
ARG SERVICE
ARG PORT

FROM python:3.11-slim AS build
ARG SERVICE
COPY --from=ghcr.io/astral-sh/uv:0.13.8 /uv /uvx /bin/
# Bytecode compiled at build time starts the container faster; copy mode because the cache
# mount is another filesystem; the image's own Python, never a downloaded one (the runtime
# stage has only /usr/local/bin/python3.11, which the virtualenv points at).
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app

# Third-party dependencies first, in a layer rebuilt only when a pyproject or the lock changes.
# uv loads the whole workspace, so every member's pyproject.toml must be present.
COPY pyproject.toml uv.lock ./
COPY libs/nexus_common/pyproject.toml libs/nexus_common/
COPY orchestrator/pyproject.toml orchestrator/
COPY agent_service/pyproject.toml agent_service/
COPY whatsapp_service/pyproject.toml whatsapp_service/
COPY tiendanube_service/pyproject.toml tiendanube_service/
COPY bff/pyproject.toml bff/
RUN --mount=type=cache,target=/root/.cache/uv \
    test -n "$SERVICE" || { echo "build argument SERVICE is required (e.g. --build-arg SERVICE=bff)" >&2; exit 1; } \
    && uv sync --frozen --no-dev --no-install-workspace --package "nexus-$SERVICE"

# Then the code this service runs: the shared library and the service itself, installed as
# wheels (not editable) so the runtime stage needs nothing but /app/.venv.
COPY libs/nexus_common/ libs/nexus_common/
COPY ${SERVICE}/ ${SERVICE}/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package "nexus-$SERVICE"


FROM python:3.11-slim AS runtime
ARG SERVICE
ARG PORT
# A fixed uid/gid, used numerically below so Kubernetes' runAsNonRoot can verify it.
RUN groupadd --system --gid 10001 nexus \
    && useradd --system --uid 10001 --gid nexus --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin nexus
WORKDIR /app
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
# uvicorn reads its options from UVICORN_* variables: CMD needs no shell to fill them in.
ENV UVICORN_APP=${SERVICE}.app:create_app \
    UVICORN_FACTORY=true \
    UVICORN_HOST=0.0.0.0 \
    UVICORN_PORT=${PORT} \
    UVICORN_PROXY_HEADERS=true
USER 10001:10001
EXPOSE ${PORT}
# python:slim has no curl; urlopen raises on a 503, so "not ready" is "unhealthy".
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/ready' % os.environ['UVICORN_PORT'], timeout=4)"]
CMD ["uvicorn"]


# The orchestrator's extra files: Alembic's scripts (it runs `alembic upgrade head` at start and
# finds them here) and its data directory.
FROM runtime AS orchestrator
COPY migrations/ /app/migrations/
USER root
# Embedded Chroma and other local state (the orchestrator_data volume). Created here, owned
# by nexus, so a fresh named volume starts with that ownership.
RUN mkdir -p /app/data && chown nexus:nexus /app/data
USER 10001:10001
ENV DATA_DIR=/app/data \
    NEXUS_INTERNAL_PORT=8010
# Two listeners: the public API on UVICORN_PORT (8000) and /internal/* on NEXUS_INTERNAL_PORT
# (8010), which compose never publishes (orchestrator/listeners/serve.py).
EXPOSE 8010
CMD ["python", "-m", "orchestrator.listeners.serve"]


# whatsapp_service: the whatsapp_sessions volume, owned by nexus for the same reason.
FROM runtime AS whatsapp_service
USER root
RUN mkdir -p /app/sessions && chown nexus:nexus /app/sessions
USER 10001:10001


# The default target: agent_service, tiendanube_service and bff need nothing more.
FROM runtime AS service
