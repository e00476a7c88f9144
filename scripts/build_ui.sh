#!/usr/bin/env bash
# Build the dashboard (platform_ui/dist) once: `npm ci` when the lockfile changed, `npm run build`
# when any input changed. A fresh build is detected by a hash of every input kept in
# dist/.build-hash, so `make test` and `make dev` pay for a build only after a change.
# Usage: bash scripts/build_ui.sh [--force]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
ui="$repo/platform_ui"
cd "$ui"

if ! command -v npm >/dev/null 2>&1; then
    echo "build_ui: npm is missing (Node.js >= 20.19 needed; Debian: apt-get install nodejs npm)" >&2
    exit 1
fi

inputs_hash() {
    # Sorted file list + contents: any edit, addition or removal changes the hash.
    find package.json package-lock.json index.html vite.config.ts tsconfig.json src public -type f \
        ! -name '*.test.ts' ! -name '*.test.tsx' -print0 2>/dev/null \
        | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1
}

lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -f node_modules/.nexus-lock-hash ] || [ "$(cat node_modules/.nexus-lock-hash)" != "$lock_hash" ]; then
    echo "build_ui: npm ci"
    # `npm ci` only: the lock is complete (every platform's rollup/esbuild build), and a lock
    # that npm refuses must fail here, as it would in nginx/Dockerfile.
    npm ci --no-audit --no-fund --loglevel=error
    echo "$lock_hash" > node_modules/.nexus-lock-hash
fi

want="$(inputs_hash)"
if [ "${1:-}" != "--force" ] && [ -f dist/index.html ] && [ -f dist/.build-hash ] \
    && [ "$(cat dist/.build-hash)" = "$want" ]; then
    echo "build_ui: dist is up to date"
    exit 0
fi
echo "build_ui: npm run build"
npm run build --silent
echo "$want" > dist/.build-hash
echo "build_ui: built $ui/dist"
