"""Run the shipped nginx configuration for real, unprivileged, in a temporary directory.

The server block is used as shipped; only what ties it to the container is rewritten (listen
address, log path, document root and, for the proxy tests, the upstream addresses: Docker's DNS
at 127.0.0.11 does not exist here). Every rewrite must match exactly once, so a change to the
shipped file cannot quietly leave the tests checking something else.
"""

from __future__ import annotations

import importlib.util
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]


def _load_nginx_conf() -> ModuleType:
    """scripts/nginx_conf.py (scripts/ is not a package): the rendering shared with make dev."""
    spec = importlib.util.spec_from_file_location("nexus_nginx_conf", REPO / "scripts" / "nginx_conf.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


nginx_conf = sys.modules.get("nexus_nginx_conf") or _load_nginx_conf()
NGINX_DIR = nginx_conf.NGINX_DIR
SERVER_CONF = nginx_conf.SERVER_CONF
RUNTIME_CONF = nginx_conf.RUNTIME_CONF
ENTRYPOINT_SCRIPT = nginx_conf.ENTRYPOINT_SCRIPT


# --- A small parser, enough to ask "which directives are inside location /events/?" ---------------


@dataclass
class Directive:
    name: str
    args: list[str]
    block: list[Directive] | None = None
    line: int = 0

    def find(self, name: str) -> list[Directive]:
        return [d for d in self.block or [] if d.name == name]

    def walk(self) -> list[Directive]:
        out: list[Directive] = []
        for d in self.block or []:
            out.append(d)
            out.extend(d.walk())
        return out


_TOKEN = re.compile(r"""\s+|#[^\n]*|"((?:\\.|[^"\\])*)"|'((?:\\.|[^'\\])*)'|([{};])|([^\s{};"'#][^\s{};]*)""")


def parse_conf(text: str) -> Directive:
    """The configuration as a tree under a synthetic root directive."""
    tokens: list[tuple[str, bool, int]] = []  # (text, is_punctuation, line)
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        assert m, f"cannot tokenize nginx config at {text[pos : pos + 40]!r}"
        line = text.count("\n", 0, pos) + 1
        if m.group(1) is not None:
            tokens.append((m.group(1), False, line))
        elif m.group(2) is not None:
            tokens.append((m.group(2), False, line))
        elif m.group(3):
            tokens.append((m.group(3), True, line))
        elif m.group(4):
            tokens.append((m.group(4), False, line))
        pos = m.end()

    root = Directive("<root>", [], [])
    stack = [root]
    words: list[str] = []
    start = 0
    for tok, punct, line in tokens:
        if not punct:
            if not words:
                start = line
            words.append(tok)
            continue
        if tok == ";":
            assert words, f"empty directive at line {line}"
            stack[-1].block.append(Directive(words[0], words[1:], None, start))  # type: ignore[union-attr]
        elif tok == "{":
            assert words, f"block without a name at line {line}"
            d = Directive(words[0], words[1:], [], start)
            stack[-1].block.append(d)  # type: ignore[union-attr]
            stack.append(d)
        else:
            assert not words and len(stack) > 1, f"unbalanced '}}' at line {line}"
            stack.pop()
        words = []
    assert len(stack) == 1 and not words, "unbalanced braces or a missing ';'"
    return root


def shipped_tree() -> Directive:
    return parse_conf(SERVER_CONF.read_text())


def the_server(tree: Directive) -> Directive:
    servers = tree.find("server")
    assert len(servers) == 1, "default.conf must hold exactly one server block"
    return servers[0]


def location(server: Directive, *args: str) -> Directive:
    found = [d for d in server.find("location") if d.args == list(args)]
    assert len(found) == 1, f"expected one `location {' '.join(args)}`, found {len(found)}"
    return found[0]


# --- Running it ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class NginxInstance:
    prefix: Path
    conf: Path
    port: int
    access_log: Path
    error_log: Path
    stderr_log: Path
    root: Path
    nginx_bin: str
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def all_logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")
            for p in (self.access_log, self.error_log, self.stderr_log)
            if p.exists()
        )

    def test_config(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.nginx_bin, "-t", "-c", str(self.conf), "-p", f"{self.prefix}/", "-e", str(self.error_log)],
            capture_output=True,
            text=True,
            timeout=30,
        )

    def start(self) -> None:
        with self.stderr_log.open("wb") as err:
            self.process = subprocess.Popen(
                [self.nginx_bin, "-c", str(self.conf), "-p", f"{self.prefix}/", "-e", str(self.error_log)],
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"nginx exited with {self.process.returncode}: {self.all_logs()[-3000:]}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("nginx did not start listening within 10 s")

    def stop(self) -> None:
        if self.process is None:
            return
        subprocess.run(
            [
                self.nginx_bin,
                "-s",
                "quit",
                "-c",
                str(self.conf),
                "-p",
                f"{self.prefix}/",
                "-e",
                str(self.error_log),
            ],
            capture_output=True,
            timeout=10,
        )
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None


def prepare(
    prefix: Path,
    nginx_bin: str,
    *,
    root: Path | None = None,
    upstreams: dict[str, str] | None = None,
    runtime_conf: Path = RUNTIME_CONF,
) -> NginxInstance:
    """Write a main nginx.conf around the shipped server block; `upstreams` maps name -> URL.

    The rendering is scripts/nginx_conf.py's, the same `make dev` runs the dashboard with.
    """
    root = root or prefix / "html"
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    try:
        conf = nginx_conf.write_config(
            prefix, port=port, root=root, upstreams=upstreams, runtime_conf=runtime_conf
        )
    except ValueError as exc:
        raise AssertionError(str(exc)) from None
    logs = prefix / "logs"
    return NginxInstance(
        prefix=prefix,
        conf=conf,
        port=port,
        access_log=logs / "access.log",
        error_log=logs / "error.log",
        stderr_log=logs / "stderr.log",
        root=root,
        nginx_bin=nginx_bin,
    )
