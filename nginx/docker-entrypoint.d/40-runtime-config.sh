#!/bin/sh
# Runtime configuration of the dashboard, so one image serves every deployment.
#
# The nginx image's /docker-entrypoint.sh runs the scripts in /docker-entrypoint.d/ in order
# before nginx starts (this one after the image's own 10- to 30- scripts); a failure here stops the
# container. From API_BASE_URL (empty = the dashboard's own origin) and APP_VERSION it writes:
#   config.js           window.__NEXUS_CONFIG__ = {"apiBaseUrl": "...", "appVersion": "..."};
#                       loaded by index.html before the app, served with Cache-Control: no-store
#   nexus-runtime.conf  $nexus_api_origin, the origin default.conf's CSP adds to connect-src
#
# Usage: 40-runtime-config.sh [config.js path] [nexus-runtime.conf path]
# (defaults are the image's paths; the tests pass temporary ones). POSIX sh: runs on busybox.
set -eu

config_js="${1:-/usr/share/nginx/html/config.js}"
runtime_conf="${2:-/etc/nginx/conf.d/nexus-runtime.conf}"
api_base_url="${API_BASE_URL:-}"
app_version="${APP_VERSION:-dev}"
me="40-runtime-config.sh"

fail() {
    echo "$me: $*" >&2
    exit 1
}

# $1 as a JSON string literal, byte by byte: " and \ are escaped, control characters and < > &
# become \u00XX (inert even if the value ever ends up inside HTML), bytes from 0x80 up pass
# through unchanged so UTF-8 stays UTF-8. od + awk because busybox has no JSON tool.
json_string() {
    printf '%s' "$1" | od -An -v -tu1 | LC_ALL=C awk '
        BEGIN { printf "\"" }
        {
            for (i = 1; i <= NF; i++) {
                b = $i + 0
                if (b == 34) printf "\\\""
                else if (b == 92) printf "\\\\"
                else if (b < 32 || b == 127 || b == 38 || b == 60 || b == 62) printf "\\u%04x", b
                else printf "%c", b
            }
        }
        END { printf "\"" }'
}

# API_BASE_URL is the public URL where nginx serves /api/ (e.g. https://nexus.example.com), a
# path on this origin (/nexus), or empty. Anything else is refused here rather than shipped to
# browsers; the character set also keeps it safe to write into the nginx map below.
bad_url="API_BASE_URL must be empty, a path starting with / or an http(s):// URL without query, fragment or credentials"
case "$api_base_url" in
    *[!A-Za-z0-9._~:/%-]*) fail "$bad_url" ;;
esac
api_origin=""
case "$api_base_url" in
    "") ;;
    //*) fail "$bad_url" ;;
    /*) ;;
    http://* | https://*)
        api_origin=$(printf '%s\n' "$api_base_url" \
            | sed -E -n 's#^(https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?)(/.*)?$#\1#p')
        [ -n "$api_origin" ] || fail "$bad_url"
        ;;
    *) fail "$bad_url" ;;
esac

# Written next to the target and renamed, so nginx never serves a half-written file.
tmp="$config_js.tmp.$$"
{
    printf '// Written by %s at container start; edit API_BASE_URL / APP_VERSION instead.\n' "$me"
    printf 'window.__NEXUS_CONFIG__ = {"apiBaseUrl": %s, "appVersion": %s};\n' \
        "$(json_string "$api_base_url")" "$(json_string "$app_version")"
} > "$tmp"
chmod 0644 "$tmp"
mv -f "$tmp" "$config_js"

tmp="$runtime_conf.tmp.$$"
{
    printf '# Written by %s at container start from API_BASE_URL; do not edit.\n' "$me"
    printf 'map $host $nexus_api_origin {\n    default "%s";\n}\n' "$api_origin"
} > "$tmp"
chmod 0644 "$tmp"
mv -f "$tmp" "$runtime_conf"

echo "$me: dashboard config written (API base: ${api_base_url:-same origin})"
