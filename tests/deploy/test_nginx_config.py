"""nginx/default.conf read as a tree and checked by nginx itself (`nginx -t`)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from .nginx_harness import (
    ENTRYPOINT_SCRIPT,
    RUNTIME_CONF,
    SERVER_CONF,
    Directive,
    location,
    parse_conf,
    prepare,
    shipped_tree,
    the_server,
)

# Variables that carry the query string; none may reach the access log.
QUERY_CARRIERS = re.compile(r"\$(request|request_uri|args|query_string|arg_\w+|is_args)\b")


def in_locations(server: Directive, name: str) -> list[Directive]:
    """`name` directives below server level (by identity: an identical copy still counts)."""
    top = {id(d) for d in server.find(name)}
    return [d for d in server.walk() if d.name == name and id(d) not in top]


@pytest.fixture(scope="module")
def server() -> Directive:
    return the_server(shipped_tree())


def test_shipped_config_passes_nginx_t(tmp_path: Path, nginx_bin: str) -> None:
    # Upstream names stay as shipped: nginx must accept them without resolving them at start
    # (a literal `proxy_pass http://orchestrator:8000` would fail here: host not found).
    inst = prepare(tmp_path, nginx_bin)
    proc = inst.test_config()
    assert proc.returncode == 0, proc.stderr
    assert "syntax is ok" in proc.stderr


def test_config_written_by_the_entrypoint_passes_nginx_t(tmp_path: Path, nginx_bin: str) -> None:
    runtime = tmp_path / "nexus-runtime.conf"
    proc = subprocess.run(
        ["sh", str(ENTRYPOINT_SCRIPT), str(tmp_path / "config.js"), str(runtime)],
        env={**os.environ, "API_BASE_URL": "https://api.example.com:8443/base", "APP_VERSION": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "https://api.example.com:8443" in runtime.read_text(), proc.stdout
    inst = prepare(tmp_path / "nginx", nginx_bin, runtime_conf=runtime)
    checked = inst.test_config()
    assert checked.returncode == 0, checked.stderr


def test_shipped_runtime_conf_defines_an_empty_api_origin() -> None:
    tree = parse_conf(RUNTIME_CONF.read_text())
    (m,) = tree.find("map")
    assert m.args == ["$host", "$nexus_api_origin"]
    assert [(d.name, d.args) for d in m.block or []] == [("default", [""])]


def test_resolver_is_dockers_dns_with_a_30s_ttl(server: Directive) -> None:
    (resolver,) = server.find("resolver")
    assert resolver.args[:2] == ["127.0.0.11", "valid=30s"]
    assert "ipv6=off" in resolver.args


def test_upstreams_are_variables_so_they_are_resolved_per_request(server: Directive) -> None:
    sets = {d.args[0]: d.args[1] for d in server.find("set")}
    assert sets["$orchestrator"] == "http://orchestrator:8000"
    assert sets["$bff"] == "http://bff:3000"
    passes = [d for d in server.walk() if d.name == "proxy_pass"]
    assert passes, "no proxy_pass at all"
    for d in passes:
        assert d.args in (["$orchestrator"], ["$bff"]), (
            f"line {d.line}: proxy_pass {d.args} names a host literally"
        )
    assert not [d for d in SERVER_CONF.read_text().splitlines() if d.strip().startswith("upstream ")]


def test_api_locations_map_paths_as_documented(server: Directive) -> None:
    v1 = location(server, "/api/v1/")
    assert [d.args for d in v1.find("proxy_pass")] == [["$orchestrator"]]
    assert not v1.find("rewrite"), "/api/v1/ must reach the orchestrator unchanged"
    for loc in (location(server, "/api/"), location(server, "~", "^/api/(webhooks|oauth)/")):
        assert [d.args for d in loc.find("rewrite")] == [["^/api(/.*)$", "$1", "break"]]
        assert [d.args for d in loc.find("proxy_pass")] == [["$orchestrator"]]
    events = location(server, "/events/")
    assert [d.args for d in events.find("proxy_pass")] == [["$bff"]]
    assert not events.find("rewrite")


def test_proxy_timeouts_are_300s_everywhere(server: Directive) -> None:
    for name in ("proxy_read_timeout", "proxy_send_timeout"):
        assert [d.args for d in server.find(name)] == [["300s"]]
        overrides = in_locations(server, name)
        assert not overrides, f"{name} overridden at line {overrides[0].line}"


def test_events_location_streams_without_buffering(server: Directive) -> None:
    events = location(server, "/events/")
    assert [d.args for d in events.find("proxy_buffering")] == [["off"]]
    assert [d.args for d in events.find("proxy_cache")] == [["off"]]
    assert [d.args for d in events.find("proxy_http_version")] == [["1.1"]]
    # A proxy_set_header here would silently drop the server-level ones (Connection "" included).
    assert not events.find("proxy_set_header")
    headers = {d.args[0]: d.args[1] for d in server.find("proxy_set_header")}
    assert headers["Connection"] == ""


def test_proxy_headers_are_forwarded(server: Directive) -> None:
    headers = {d.args[0]: d.args[1] for d in server.find("proxy_set_header")}
    assert headers["X-Request-ID"] == "$nexus_request_id"
    assert headers["X-Forwarded-For"] == "$proxy_add_x_forwarded_for"
    assert headers["X-Forwarded-Proto"] == "$nexus_forwarded_proto"
    assert headers["Host"] == "$nexus_host"
    assert not in_locations(server, "proxy_set_header"), "it would drop all the server-level ones there"


def test_spa_fallback_and_hashed_assets(server: Directive) -> None:
    assert [d.args for d in location(server, "/").find("try_files")] == [["$uri", "$uri/", "/index.html"]]
    assert [d.args for d in location(server, "/assets/").find("try_files")] == [["$uri", "=404"]]


def test_body_limit_fits_metas_3mb(server: Directive) -> None:
    assert [d.args for d in server.find("client_max_body_size")] == [["4m"]]


def test_access_log_never_contains_the_query_string(server: Directive) -> None:
    tree = shipped_tree()
    formats = {d.args[0]: " ".join(d.args[1:]) for d in tree.find("log_format")}
    logs = [d for d in tree.walk() if d.name == "access_log"]
    assert logs, "no access_log: the image default (which logs $request) would apply"
    for d in logs:
        assert d.args == ["off"] or d.args[1] in formats, f"line {d.line}: access_log with an unknown format"
    for name, fmt in formats.items():
        assert not QUERY_CARRIERS.search(fmt), f"log_format {name} can log the query string"
    # The path variable it logs is the request URI cut at the first '?'.
    (path_map,) = [m for m in tree.find("map") if m.args[1] == "$nexus_log_path"]
    assert path_map.args[0] == "$request_uri"
    assert [d.name for d in path_map.block or []] == ["~^(?<nexus_path>[^?]*)"]


def test_security_headers_are_declared_at_server_level_only(server: Directive) -> None:
    declared = {d.args[0] for d in server.find("add_header")}
    assert {
        "Content-Security-Policy",
        "X-Content-Type-Options",
        "Referrer-Policy",
        "Cache-Control",
    } <= declared
    # add_header inside a location would drop every server-level add_header for that location.
    assert not in_locations(server, "add_header")
    tree = shipped_tree()
    (csp,) = [m for m in tree.find("map") if m.args[1] == "$nexus_csp"]
    default = next(d.args[0] for d in csp.block or [] if d.name == "default")
    assert "default-src 'self'" in default and "frame-ancestors 'none'" in default
    assert "$nexus_api_origin" in default


def test_gzip_covers_text_css_js_json(server: Directive) -> None:
    assert [d.args for d in server.find("gzip")] == [["on"]]
    (types,) = server.find("gzip_types")
    assert {"text/css", "application/javascript", "application/json"} <= set(types.args)


def test_healthz_answers_without_upstreams(server: Directive) -> None:
    hz = location(server, "=", "/healthz")
    assert [d.args[0] for d in hz.find("return")] == ["200"]
    assert not hz.find("proxy_pass")
