"""The shipped nginx configuration, running: real nginx on loopback in front of two small upstream
servers standing in for the orchestrator and the BFF, which record what reaches them."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import re
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from .nginx_harness import ENTRYPOINT_SCRIPT, NginxInstance, prepare

API_BASE_URL = "https://api.example.com:8443"
APP_VERSION = '1.4.2 "rc" </script>'
INDEX_HTML = b"<!doctype html><html><head><title>Nexus test</title></head><body>index</body></html>\n"
ASSET_JS = b"".join(b"export function f%d(a){return a+%d;}\n" % (i, i) for i in range(800))  # ~30 KB
ASSET_CSS = b"".join(b".c%d{color:#%06x;margin:%dpx}\n" % (i, i, i % 9) for i in range(800))


@dataclass
class Seen:
    method: str
    target: str  # path and query exactly as the upstream received them
    headers: dict[str, str]
    body_length: int


@dataclass
class Upstream:
    name: str
    server: ThreadingHTTPServer
    seen: list[Seen] = field(default_factory=list)
    release_stream: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def last(self, target_prefix: str) -> Seen:
        matching = [s for s in self.seen if s.target.startswith(target_prefix)]
        assert matching, f"{self.name} never saw {target_prefix!r}; it saw {[s.target for s in self.seen]}"
        return matching[-1]


def start_upstream(name: str) -> Upstream:
    holder: dict[str, Upstream] = {}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # one request per connection; the end of a stream is the close

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
            pass

        def _handle(self) -> None:
            up = holder["up"]
            length = int(self.headers.get("Content-Length") or 0)
            remaining = length
            while remaining:
                chunk = self.rfile.read(min(remaining, 1 << 16))
                if not chunk:
                    break
                remaining -= len(chunk)
            up.seen.append(Seen(self.command, self.path, {k: v for k, v in self.headers.items()}, length))

            if "/drop" in self.path:
                return  # close without an answer: nginx logs an upstream error and answers 502
            if self.path.startswith("/events/stream"):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                self.wfile.write(b"data: first\n\n")
                self.wfile.flush()
                up.release_stream.wait(timeout=10)  # the test reads "first" while we hold the stream
                self.wfile.write(b"data: second\n\n")
                return
            body = json.dumps({"upstream": up.name, "target": self.path}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if self.path.startswith("/api/v1/own-headers"):
                self.send_header("X-Content-Type-Options", "nosniff")
                self.send_header("X-Request-ID", "from-the-upstream-1")
                self.send_header("Cache-Control", "private, max-age=5")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_HEAD = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    up = Upstream(name, server)
    holder["up"] = up
    threading.Thread(target=server.serve_forever, args=(0.05,), name=f"upstream-{name}", daemon=True).start()
    return up


@dataclass
class Edge:
    nginx: NginxInstance
    orchestrator: Upstream
    bff: Upstream


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory, nginx_bin: str) -> Iterator[Edge]:
    base = tmp_path_factory.mktemp("edge")
    root = base / "html"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_bytes(INDEX_HTML)
    (root / "assets" / "index-Abc123.js").write_bytes(ASSET_JS)
    (root / "assets" / "index-Abc123.css").write_bytes(ASSET_CSS)

    # What the container does at start: the entrypoint script writes config.js and the CSP origin.
    runtime_conf = base / "nexus-runtime.conf"
    subprocess.run(
        ["sh", str(ENTRYPOINT_SCRIPT), str(root / "config.js"), str(runtime_conf)],
        env={**os.environ, "API_BASE_URL": API_BASE_URL, "APP_VERSION": APP_VERSION},
        check=True,
        capture_output=True,
    )

    orchestrator, bff = start_upstream("orchestrator"), start_upstream("bff")
    inst = prepare(
        base / "nginx",
        nginx_bin,
        root=root,
        upstreams={"orchestrator": orchestrator.url, "bff": bff.url},
        runtime_conf=runtime_conf,
    )
    checked = inst.test_config()
    assert checked.returncode == 0, checked.stderr
    inst.start()
    try:
        yield Edge(inst, orchestrator, bff)
    finally:
        inst.stop()
        for up in (orchestrator, bff):
            up.release_stream.set()
            up.server.shutdown()
            up.server.server_close()


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.headers.get_all(name) or []
        assert len(values) <= 1, f"{name} sent {len(values)} times: {values}"
        return values[0] if values else None


def call(
    edge: Edge, method: str, target: str, headers: dict[str, str] | None = None, body: bytes | None = None
) -> Reply:
    conn = http.client.HTTPConnection("127.0.0.1", edge.nginx.port, timeout=10)
    try:
        conn.request(method, target, body=body, headers=headers or {})
        resp = conn.getresponse()
        return Reply(resp.status, resp.headers, resp.read())
    finally:
        conn.close()


def assert_dashboard_headers(r: Reply) -> None:
    csp = r.header("Content-Security-Policy") or ""
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.header("X-Content-Type-Options") == "nosniff"
    assert r.header("Referrer-Policy") == "same-origin"
    assert r.header("X-Frame-Options") == "DENY"


# --- The dashboard ---------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["/", "/index.html", "/conversations/42", "/some/spa/route?tab=2"])
def test_dashboard_routes_serve_index_html_never_cached(edge: Edge, target: str) -> None:
    before = len(edge.orchestrator.seen)
    r = call(edge, "GET", target)
    assert r.status == 200
    assert r.body == INDEX_HTML
    assert r.header("Cache-Control") == "no-store"
    assert_dashboard_headers(r)
    assert len(edge.orchestrator.seen) == before, "a dashboard route reached the orchestrator"


def test_csp_allows_the_configured_api_origin(edge: Edge) -> None:
    csp = call(edge, "GET", "/").header("Content-Security-Policy") or ""
    assert re.search(r"connect-src 'self' https://api\.example\.com:8443;", csp), csp


def test_config_js_holds_the_runtime_values_and_is_never_cached(edge: Edge) -> None:
    r = call(edge, "GET", "/config.js")
    assert r.status == 200
    assert r.header("Cache-Control") == "no-store"
    assert "javascript" in (r.header("Content-Type") or "")
    m = re.search(rb"window\.__NEXUS_CONFIG__ = (\{.*\});\n", r.body)
    assert m, r.body
    assert json.loads(m.group(1)) == {"apiBaseUrl": API_BASE_URL, "appVersion": APP_VERSION}
    assert b"</script>" not in r.body


def test_hashed_assets_are_immutable_and_gzipped(edge: Edge) -> None:
    for name, content, ctype in (
        ("index-Abc123.js", ASSET_JS, "javascript"),
        ("index-Abc123.css", ASSET_CSS, "text/css"),
    ):
        r = call(edge, "GET", f"/assets/{name}", {"Accept-Encoding": "gzip"})
        assert r.status == 200
        assert ctype in (r.header("Content-Type") or "")
        assert r.header("Content-Encoding") == "gzip"
        assert "Accept-Encoding" in (r.header("Vary") or "")
        assert gzip.decompress(r.body) == content
        assert len(r.body) < len(content) / 3
        assert r.header("Cache-Control") == "public, max-age=31536000, immutable"

        plain = call(edge, "GET", f"/assets/{name}")
        assert plain.header("Content-Encoding") is None
        assert plain.body == content


def test_missing_asset_is_a_404_that_is_not_cached(edge: Edge) -> None:
    r = call(edge, "GET", "/assets/index-Gone99.js")
    assert r.status == 404
    assert r.body != INDEX_HTML
    assert r.header("Cache-Control") == "no-store"


def test_healthz(edge: Edge) -> None:
    r = call(edge, "GET", "/healthz")
    assert (r.status, r.body) == (200, b"ok\n")


# --- /api/ -> orchestrator ----------------------------------------------------------------------


def test_api_v1_reaches_the_orchestrator_unchanged(edge: Edge) -> None:
    r = call(edge, "GET", "/api/v1/x?y=1&z=%20two")
    assert r.status == 200
    assert json.loads(r.body) == {"upstream": "orchestrator", "target": "/api/v1/x?y=1&z=%20two"}
    seen = edge.orchestrator.last("/api/v1/x")
    assert seen.target == "/api/v1/x?y=1&z=%20two"
    assert seen.headers["Host"] == f"127.0.0.1:{edge.nginx.port}"
    assert seen.headers["X-Forwarded-For"] == "127.0.0.1"
    assert seen.headers["X-Forwarded-Proto"] == "http"
    # nginx made a request id, sent it upstream, and returned it (the upstream sent none).
    rid = seen.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid)
    assert r.header("X-Request-ID") == rid
    # The orchestrator's own answers carry no dashboard CSP or caching, but do get nosniff.
    assert r.header("Content-Security-Policy") is None
    assert r.header("Cache-Control") is None
    assert r.header("X-Content-Type-Options") == "nosniff"


@pytest.mark.parametrize(
    ("public", "upstream"),
    [
        ("/api/webhooks/whatsapp", "/webhooks/whatsapp"),
        ("/api/webhooks/meta?x=1", "/webhooks/meta?x=1"),
        ("/api/oauth/tiendanube/callback?code=abc&state=s", "/oauth/tiendanube/callback?code=abc&state=s"),
        ("/api/health/ready", "/health/ready"),
        ("/api/docs", "/docs"),
        ("/api/openapi.json", "/openapi.json"),
    ],
)
def test_rest_of_api_is_the_orchestrators_root(edge: Edge, public: str, upstream: str) -> None:
    r = call(edge, "GET", public)
    assert r.status == 200
    assert json.loads(r.body)["target"] == upstream


def test_incoming_request_id_and_proto_are_kept_only_when_sane(edge: Edge) -> None:
    call(edge, "GET", "/api/v1/rid-ok", {"X-Request-ID": "client-req-0001", "X-Forwarded-Proto": "https"})
    seen = edge.orchestrator.last("/api/v1/rid-ok")
    assert seen.headers["X-Request-ID"] == "client-req-0001"
    assert seen.headers["X-Forwarded-Proto"] == "https"

    call(
        edge, "GET", "/api/v1/rid-bad", {"X-Request-ID": "bad id; with spaces", "X-Forwarded-Proto": "gopher"}
    )
    seen = edge.orchestrator.last("/api/v1/rid-bad")
    assert re.fullmatch(r"[0-9a-f]{32}", seen.headers["X-Request-ID"])
    assert seen.headers["X-Forwarded-Proto"] == "http"


def test_upstream_headers_are_not_duplicated(edge: Edge) -> None:
    r = call(edge, "GET", "/api/v1/own-headers")  # Reply.header fails on a duplicate
    assert r.header("X-Content-Type-Options") == "nosniff"
    assert r.header("X-Request-ID") == "from-the-upstream-1"
    assert r.header("Cache-Control") == "private, max-age=5"


def test_webhook_verify_token_never_reaches_the_logs(edge: Edge) -> None:
    secret = "verify-SECRET-4a1f"
    target = f"/api/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token={secret}&hub.challenge=1158201444"
    r = call(edge, "GET", target)
    assert r.status == 200
    assert edge.orchestrator.last("/webhooks/whatsapp?hub.mode").target == target.removeprefix("/api")

    # Also when the orchestrator fails: nginx's error log would print the request line there.
    dropped = call(edge, "GET", f"/api/webhooks/drop?hub.verify_token={secret}")
    assert dropped.status == 502
    # The same failure on /api/v1 is logged with its query, so the error log is really captured.
    control = call(edge, "GET", "/api/v1/drop?marker=VISIBLE-in-error-log")
    assert control.status == 502

    access = edge.nginx.access_log.read_text()
    lines = [json.loads(line) for line in access.splitlines()]
    webhook_lines = [line for line in lines if line["path"] == "/api/webhooks/whatsapp"]
    assert webhook_lines and webhook_lines[-1]["status"] == 200
    assert any(line["path"] == "/api/webhooks/drop" and line["status"] == 502 for line in lines)
    assert "VISIBLE-in-error-log" in edge.nginx.error_log.read_text()
    assert secret not in edge.nginx.all_logs()


def test_access_log_records_the_requested_path_not_the_rewritten_one(edge: Edge) -> None:
    call(edge, "GET", "/some/deep/route?session=abc")
    # Its own line (a slower earlier request may be logged after it).
    lines = [json.loads(line) for line in edge.nginx.access_log.read_text().splitlines()]
    last = [line for line in lines if line["path"].startswith("/some/deep")][-1]
    assert last["path"] == "/some/deep/route"
    assert last["status"] == 200
    assert "session=abc" not in edge.nginx.access_log.read_text()


def test_webhook_bodies_up_to_4m_pass_and_bigger_are_refused(edge: Edge) -> None:
    body = b"x" * (3 * 1024 * 1024 + 512 * 1024)  # 3.5 MiB: Meta's largest payloads fit
    r = call(edge, "POST", "/api/webhooks/whatsapp", {"Content-Type": "application/json"}, body)
    assert r.status == 200
    assert edge.orchestrator.last("/webhooks/whatsapp").body_length == len(body)

    # 5 MB announced: nginx answers 413 from the headers alone, before any body is sent.
    with socket.create_connection(("127.0.0.1", edge.nginx.port), timeout=10) as s:
        s.sendall(
            b"POST /api/webhooks/whatsapp HTTP/1.1\r\nHost: edge\r\nContent-Type: application/json\r\n"
            b"Content-Length: 5000000\r\nConnection: close\r\n\r\n"
        )
        answer = b""
        # Up to the end of the headers only: nginx then waits (lingering close) for a body that
        # will never come.
        while b"\r\n\r\n" not in answer and (chunk := s.recv(65536)):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert edge.orchestrator.seen[-1].body_length == len(body), "the oversized body reached the orchestrator"


# --- /events/ -> bff ----------------------------------------------------------------------------


def test_events_are_streamed_as_they_happen(edge: Edge) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", edge.nginx.port, timeout=3)
    try:
        conn.request(
            "GET",
            "/events/stream?tenant=t1",
            headers={"Accept": "text/event-stream", "Accept-Encoding": "gzip"},
        )
        resp = conn.getresponse()
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "text/event-stream"
        assert resp.headers["X-Accel-Buffering"] == "no"
        assert resp.headers.get("Content-Encoding") is None
        # The BFF still holds the stream open: a buffering proxy would deliver nothing yet and
        # this read would time out.
        assert resp.readline() == b"data: first\n"
        edge.bff.release_stream.set()
        assert resp.read() == b"\ndata: second\n\n"
    finally:
        conn.close()
    seen = edge.bff.last("/events/stream")
    assert seen.target == "/events/stream?tenant=t1"
    assert seen.headers.get("Connection") is None  # HTTP/1.1 upstream, no "Connection: close"
    assert re.fullmatch(r"[0-9a-f]{32}", seen.headers["X-Request-ID"])


# --- Security review (issue 11) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/api/internal/tenants/6b0f/llm-keys",
        "/api/internal",
        "/api/v1/../internal/auth/verify",
        "/api/%69nternal/products/search?q=x",
    ],
)
def test_the_internal_api_is_a_404_at_the_edge(edge: Edge, target: str) -> None:
    before = len(edge.orchestrator.seen)
    r = call(edge, "GET", target, headers={"X-Internal-Token": "whatever-the-caller-holds"})
    assert r.status == 404
    assert json.loads(r.body)["error"]["code"] == "not_found"
    assert len(edge.orchestrator.seen) == before  # never forwarded


def test_hsts_over_https_and_a_permissions_policy_everywhere(edge: Edge) -> None:
    for target in ("/", "/api/v1/tenant", "/assets/index-Abc123.js"):
        https = call(edge, "GET", target, headers={"X-Forwarded-Proto": "https"})
        assert https.header("Strict-Transport-Security") == "max-age=31536000; includeSubDomains", target
        policy = https.header("Permissions-Policy") or ""
        assert "camera=()" in policy and "geolocation=()" in policy, target
        plain = call(edge, "GET", target)
        assert plain.header("Strict-Transport-Security") is None, target


def test_the_event_stream_token_never_reaches_the_logs(edge: Edge) -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.SSE-TOKEN-never-logged"
    dropped = call(edge, "GET", f"/events/drop?access_token={token}")
    assert dropped.status == 502  # the BFF failed: nginx's error log would print the request line
    control = call(edge, "GET", "/api/v1/drop?marker=VISIBLE-in-error-log-2")
    assert control.status == 502
    assert "VISIBLE-in-error-log-2" in edge.nginx.error_log.read_text()  # the log is captured
    assert token not in edge.nginx.all_logs()


@pytest.fixture
def fresh_edge(tmp_path: Path, nginx_bin: str) -> Iterator[Edge]:
    """An edge of its own: rate-limit state must not leak into the module's other tests."""
    orchestrator, bff = start_upstream("orchestrator"), start_upstream("bff")
    inst = prepare(
        tmp_path / "nginx", nginx_bin, upstreams={"orchestrator": orchestrator.url, "bff": bff.url}
    )
    inst.start()
    try:
        yield Edge(inst, orchestrator, bff)
    finally:
        inst.stop()
        for up in (orchestrator, bff):
            up.server.shutdown()
            up.server.server_close()


def test_sign_in_and_webhooks_are_rate_limited_per_address(fresh_edge: Edge) -> None:
    logins = [
        call(
            fresh_edge, "POST", "/api/v1/auth/login", body=b"{}", headers={"Content-Type": "application/json"}
        )
        for _ in range(15)
    ]
    statuses = [r.status for r in logins]
    assert statuses[:10] == [200] * 10 and statuses[-1] == 429, statuses  # burst of 10, then 429
    assert sum(s == 200 for s in statuses) <= 11
    reaching = [s for s in fresh_edge.orchestrator.seen if s.target == "/api/v1/auth/login"]
    assert len(reaching) == sum(s == 200 for s in statuses)  # refused ones never reach it

    hooks = [call(fresh_edge, "POST", "/api/webhooks/whatsapp", body=b"{}").status for _ in range(300)]
    assert hooks[:100] == [200] * 100 and 429 in hooks[100:], hooks
    # Other routes are not limited.
    assert all(call(fresh_edge, "GET", "/api/v1/tenant").status == 200 for _ in range(30))
