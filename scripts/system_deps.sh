#!/usr/bin/env bash
# Installs the Debian packages `make dev` (nginx) or the test suite (also busybox and Chromium)
# needs when they are missing (idempotent).
# Usage: bash scripts/system_deps.sh [dev|test]   (default: test)
set -euo pipefail
mode="${1:-test}"
need=()
# nginx: the dashboard (make dev) and the proxy tests run the real nginx/default.conf.
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
if [ "$mode" = test ]; then
  # busybox: the deploy tests run the nginx image's entrypoint script with busybox's shell and tools.
  command -v busybox >/dev/null 2>&1 || need+=(busybox)
  # chromium: the dashboard's end-to-end tests drive Debian's headless Chromium (tests/e2e).
  [ -x /usr/bin/chromium ] || need+=(chromium)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${need[*]} (run: sudo apt-get install -y ${need[*]})" >&2
    exit 1
  fi
  echo "installing ${need[*]}..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || true
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
