"""nginx's dynamic resolver, for real: a DNS server on loopback answers nginx's `resolver`; an
upstream that moves to a new address is reached again without a reload; the proxy timeouts hold a
slow upstream. Timings are scaled down (the rendered copy uses `valid=1s` and a 3 s read timeout)
so the suite stays fast; the shipped values (30 s, 300 s) are checked as written."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from dnslib import QTYPE, RR, A
from dnslib.server import BaseResolver, DNSLogger, DNSServer

from .nginx_harness import SERVER_CONF, location, prepare, shipped_tree, the_server

NAME = "orchestrator.nexus.test"


class Zone(BaseResolver):  # type: ignore[misc]
    """Answers A queries for NAME with whatever address the test sets, TTL 1 s."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.queries = 0

    def resolve(self, request, handler):  # type: ignore[no-untyped-def]
        reply = request.reply()
        qname = str(request.q.qname).rstrip(".")
        if qname == NAME and request.q.qtype == QTYPE.A:
            self.queries += 1
            reply.add_answer(RR(request.q.qname, QTYPE.A, rdata=A(self.address), ttl=1))
        return reply


def upstream(host: str, port: int, name: str) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
            pass

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            delay = float(parse_qs(urlsplit(self.path).query).get("sleep", ["0"])[0])
            time.sleep(delay)
            body = json.dumps({"upstream": name}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_port_on_both(hosts: tuple[str, ...]) -> int:
    for _ in range(50):
        with socket.socket() as s:
            s.bind((hosts[0], 0))
            port = int(s.getsockname()[1])
        try:
            for h in hosts[1:]:
                with socket.socket() as t:
                    t.bind((h, port))
            return port
        except OSError:
            continue
    raise AssertionError("no port free on every loopback address")


@dataclass
class Rig:
    port: int
    zone: Zone
    old: ThreadingHTTPServer
    new: ThreadingHTTPServer
    error_log: Path


@pytest.fixture
def rig(tmp_path: Path, nginx_bin: str) -> Iterator[Rig]:
    hosts = ("127.0.0.2", "127.0.0.3")
    port = free_port_on_both(hosts)
    old, new = upstream(hosts[0], port, "old"), upstream(hosts[1], port, "new")
    zone = Zone(hosts[0])
    dns_port = free_udp_port()
    dns = DNSServer(zone, address="127.0.0.1", port=dns_port, logger=DNSLogger("-request,-reply,-truncated"))
    dns.start_thread()
    inst = prepare(
        tmp_path / "nginx",
        nginx_bin,
        upstreams={"orchestrator": f"http://{NAME}:{port}", "bff": f"http://{NAME}:{port}"},
    )
    server_conf = inst.conf.parent / "default.conf"
    text = server_conf.read_text()
    shipped = "resolver 127.0.0.11 valid=30s ipv6=off;"
    assert text.count(shipped) == 1 and text.count("proxy_read_timeout 300s;") == 1
    text = text.replace(shipped, f"resolver 127.0.0.1:{dns_port} valid=1s ipv6=off;")
    text = text.replace("proxy_read_timeout 300s;", "proxy_read_timeout 3s;")
    server_conf.write_text(text)
    checked = inst.test_config()
    assert checked.returncode == 0, checked.stderr
    inst.start()
    try:
        yield Rig(inst.port, zone, old, new, inst.error_log)
    finally:
        inst.stop()
        dns.stop()
        for s in (old, new):
            s.shutdown()
            s.server_close()


def get(port: int, target: str, timeout: float = 10) -> tuple[int, dict[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", target)
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, (json.loads(body) if resp.status == 200 else {})
    finally:
        conn.close()


def test_the_shipped_resolver_re_resolves_every_30_s_and_waits_300_s() -> None:
    server = the_server(shipped_tree())
    (resolver,) = server.find("resolver")
    assert resolver.args == ["127.0.0.11", "valid=30s", "ipv6=off"]
    assert [d.args for d in server.find("proxy_read_timeout")] == [["300s"]]
    assert [d.args for d in server.find("proxy_send_timeout")] == [["300s"]]
    # Upstreams are variables (looked up per request through the resolver), never literals.
    for loc in (location(server, "/api/v1/"), location(server, "/events/")):
        assert all(d.args[0].startswith("$") for d in loc.find("proxy_pass"))
    assert "proxy_read_timeout" not in SERVER_CONF.read_text().split("location /events/")[1].split("}")[0]


def test_a_moved_upstream_is_reached_again_without_a_reload(rig: Rig) -> None:
    assert get(rig.port, "/api/v1/where") == (200, {"upstream": "old"})
    asked = rig.zone.queries
    assert asked >= 1  # nginx asked our DNS server, not /etc/hosts
    # The orchestrator container is replaced: a new address, the old one gone.
    rig.zone.address = "127.0.0.3"
    rig.old.shutdown()
    rig.old.server_close()
    seen = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status, body = get(rig.port, "/api/v1/where")
        seen.append((status, body.get("upstream")))
        if (status, body.get("upstream")) == (200, "new"):
            break
        time.sleep(0.2)
    assert seen[-1] == (200, "new"), seen[-5:]
    assert rig.zone.queries > asked
    # No reload happened (nginx logs a SIGHUP and "reconfiguring" at info level when it does).
    log = rig.error_log.read_text()
    assert "reconfiguring" not in log and "SIGHUP" not in log


def test_the_read_timeout_holds_a_slow_upstream_and_ends_a_stuck_one(rig: Rig) -> None:
    # Scaled: 3 s here for the shipped 300 s (the agent's ceiling).
    assert get(rig.port, "/api/v1/slow?sleep=2") == (200, {"upstream": "old"})
    status, _ = get(rig.port, "/api/v1/slow?sleep=5")
    assert status == 504
