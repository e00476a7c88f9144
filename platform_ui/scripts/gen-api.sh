#!/usr/bin/env bash
# Regenerate src/api/schema.d.ts (the typed client's types) from the orchestrator's OpenAPI.
# Run after any change to the orchestrator's /api/v1 routes; the output is committed, and
# `npm run build` type-checks the dashboard against it.
# Usage (from anywhere): bash platform_ui/scripts/gen-api.sh
set -euo pipefail
ui="$(cd "$(dirname "$0")/.." && pwd)"
repo="$(cd "$ui/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$repo" && uv run --frozen python "$ui/scripts/dump_openapi.py" "$tmp/openapi.json") >/dev/null
cd "$ui"
npx --no-install openapi-typescript "$tmp/openapi.json" -o src/api/schema.d.ts
echo "gen-api: wrote src/api/schema.d.ts"
