#!/usr/bin/env bash
# Start the machine's own PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) if they are
# installed but not running. Idempotent: anything already listening is left alone.
#
# Never fails its caller: `make dev` falls back to an embedded Postgres (pgserver) and runs
# degraded without Redis, so a service that cannot be started only prints a note.
#
# Usage: bash scripts/ensure_services.sh
set -u

listening() { # host port -> 0 when something accepts a TCP connection
    timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

wait_for() { # host port seconds
    local i
    for ((i = 0; i < $3 * 4; i++)); do
        listening "$1" "$2" && return 0
        sleep 0.25
    done
    return 1
}

note() { echo "ensure_services: $*"; }

# --- PostgreSQL -----------------------------------------------------------------------------
if listening 127.0.0.1 5432; then
    note "postgres already listening on 127.0.0.1:5432"
elif command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    started=""
    # One directory per installed major version; start the first one that has a `main` cluster.
    for version in $(ls /etc/postgresql 2>/dev/null | sort -rV); do
        [ -d "/etc/postgresql/$version/main" ] || continue
        if pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 \
            || listening 127.0.0.1 5432; then
            started="$version"
            break
        fi
    done
    if [ -n "$started" ] && wait_for 127.0.0.1 5432 15; then
        note "started postgres $started (127.0.0.1:5432)"
    else
        note "could not start postgres on 127.0.0.1:5432; make dev will use an embedded one"
    fi
else
    note "no local postgres installed (pg_ctlcluster, /etc/postgresql); make dev will use an embedded one"
fi

# --- Redis ----------------------------------------------------------------------------------
if listening 127.0.0.1 6379; then
    note "redis already listening on 127.0.0.1:6379"
elif command -v redis-server >/dev/null 2>&1; then
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    if redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log >/dev/null 2>&1 \
        && wait_for 127.0.0.1 6379 10; then
        note "started redis (127.0.0.1:6379)"
    else
        note "could not start redis on 127.0.0.1:6379; the platform will run degraded without it"
    fi
else
    note "redis-server not installed; the platform will run degraded without Redis"
fi

exit 0
