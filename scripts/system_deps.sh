#!/usr/bin/env bash
# Installs the Debian packages the test suite needs when they are missing (idempotent).
set -euo pipefail
need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
# busybox: the deploy tests run the nginx image's entrypoint script with busybox's shell and tools.
command -v busybox >/dev/null 2>&1 || need+=(busybox)
# chromium: the dashboard's end-to-end tests drive Debian's headless Chromium (tests/e2e).
[ -x /usr/bin/chromium ] || need+=(chromium)
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
