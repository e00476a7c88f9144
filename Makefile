# Two commands for a fresh machine: `make dev` (the whole platform locally) and `make test`.
SHELL := /bin/bash
UV_VERSION := 0.13.8
export UV_LINK_MODE := copy

.PHONY: dev test install system-deps lint format check-ci

# uv is pinned; installed into the user's Python when missing.
install:
	@command -v uv >/dev/null 2>&1 && uv --version | grep -q "$(UV_VERSION)" || python3 -m pip install -q "uv==$(UV_VERSION)"
	uv sync --frozen --all-packages

# Debian packages the tests and the local platform use (nginx; Chromium comes with the dashboard).
system-deps:
	@bash scripts/system_deps.sh

dev: install
	@bash scripts/ensure_services.sh || true
	uv run python scripts/dev.py

test: install system-deps
	@bash scripts/ensure_services.sh || true
	bash scripts/build_ui.sh
	cd platform_ui && npx --no-install vitest run
	uv run ruff check .
	uv run mypy
	uv run lint-imports
	uv run pytest

lint:
	uv run ruff check .
	uv run ruff format --check .

format:
	uv run ruff format .
	uv run ruff check --fix .
