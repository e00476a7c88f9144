# Two commands for a fresh machine: `make dev` (the whole platform locally) and `make test`.
SHELL := /bin/bash
UV_VERSION := 0.13.8
export UV_LINK_MODE := copy

.PHONY: dev test install system-deps lint format check-ci screenshots

# uv is pinned; installed into the user's Python when missing.
install:
	@command -v uv >/dev/null 2>&1 && uv --version | grep -q "$(UV_VERSION)" || python3 -m pip install -q "uv==$(UV_VERSION)"
	uv sync --frozen --all-packages

# Debian packages the tests use (nginx, busybox, Chromium); `make dev` installs only nginx.
system-deps:
	@bash scripts/system_deps.sh test

# Installs what is missing (uv and the Python packages, nginx), starts the machine's Postgres and
# Redis when installed, then the whole platform with the demo (scripts/devstack).
dev: install
	@bash scripts/system_deps.sh dev
	@bash scripts/ensure_services.sh || true
	uv run python -m scripts.devstack $(ARGS)

test: install system-deps
	@bash scripts/ensure_services.sh || true
	bash scripts/build_ui.sh
	cd platform_ui && npx --no-install vitest run
	uv run ruff check .
	uv run mypy
	uv run lint-imports
	uv run pytest

# Refreshes docs/screenshots/ from the browser tests (a plain `make test` leaves them alone).
screenshots: install system-deps
	bash scripts/build_ui.sh
	NEXUS_UPDATE_SCREENSHOTS=1 uv run pytest tests/e2e

lint:
	uv run ruff check .
	uv run ruff format --check .

format:
	uv run ruff format .
	uv run ruff check --fix .
