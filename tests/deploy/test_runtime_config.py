"""nginx/docker-entrypoint.d/40-runtime-config.sh, run under dash and under busybox (the shell,
awk, od and sed of the nginx:alpine image), exactly as the image's entrypoint runs it."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import REPO, copy_parts, parse_dockerfile
from .nginx_harness import ENTRYPOINT_SCRIPT, parse_conf

CONFIG_LINE = re.compile(r"window\.__NEXUS_CONFIG__ = (\{.*\});")

RunScript = Callable[[Path, dict[str, str]], subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module", params=["sh", "busybox"])
def run_script(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> RunScript:
    if request.param == "sh":
        argv, path = ["sh"], os.environ.get("PATH", "/usr/bin:/bin")
    else:
        busybox = request.getfixturevalue("busybox_bin")
        # Only busybox applets on PATH, so awk/od/sed/mv are busybox's as on Alpine.
        bindir = tmp_path_factory.mktemp("busybox-bin")
        applets = subprocess.run(
            [busybox, "--list"], capture_output=True, text=True, check=True
        ).stdout.split()
        for applet in applets:
            (bindir / applet).symlink_to(busybox)
        assert {"awk", "od", "sed", "mv", "chmod", "printf"} <= set(applets)
        argv, path = [busybox, "sh"], str(bindir)

    def run(out: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*argv, str(ENTRYPOINT_SCRIPT), str(out / "config.js"), str(out / "nexus-runtime.conf")],
            env={"PATH": path, **env},
            capture_output=True,
            text=True,
            timeout=30,
        )

    return run


def read_config(out: Path) -> dict[str, str]:
    text = (out / "config.js").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) == 2 and lines[0].startswith("//"), text  # a newline in a value stays escaped
    m = CONFIG_LINE.fullmatch(lines[1])
    assert m, lines[1]
    value = json.loads(m.group(1))
    assert isinstance(value, dict)
    return value


def api_origin(out: Path) -> str:
    (m,) = parse_conf((out / "nexus-runtime.conf").read_text()).find("map")
    assert m.args == ["$host", "$nexus_api_origin"]
    (default,) = [d for d in m.block or [] if d.name == "default"]
    return default.args[0]


@pytest.mark.parametrize(
    ("api_base_url", "origin"),
    [
        ("", ""),
        ("/nexus", ""),
        ("https://nexus.example.com", "https://nexus.example.com"),
        ("https://nexus.example.com/", "https://nexus.example.com"),
        ("http://10.0.0.5:8080/base/path", "http://10.0.0.5:8080"),
    ],
)
def test_api_base_url_and_its_origin(
    run_script: RunScript, tmp_path: Path, api_base_url: str, origin: str
) -> None:
    proc = run_script(tmp_path, {"API_BASE_URL": api_base_url, "APP_VERSION": "1.0.0"})
    assert proc.returncode == 0, proc.stderr
    assert read_config(tmp_path) == {"apiBaseUrl": api_base_url, "appVersion": "1.0.0"}
    assert api_origin(tmp_path) == origin


@pytest.mark.parametrize(
    "version",
    [
        '2.0 "quoted" and \\back\\slashes\\',
        "</script><script>alert(1)</script>",
        "line one\nline two\ttabbed\r\x01\x7f",
        "versión ñandú ✓ 🚀",
        "50% $HOME `id` $(id) %s %n",
        "trailing newline\n",
    ],
)
def test_app_version_is_json_escaped(run_script: RunScript, tmp_path: Path, version: str) -> None:
    proc = run_script(tmp_path, {"APP_VERSION": version})
    assert proc.returncode == 0, proc.stderr
    assert read_config(tmp_path) == {"apiBaseUrl": "", "appVersion": version}
    raw = (tmp_path / "config.js").read_text()
    assert "</script" not in raw and "<script" not in raw


def test_defaults_when_unset(run_script: RunScript, tmp_path: Path) -> None:
    proc = run_script(tmp_path, {})
    assert proc.returncode == 0, proc.stderr
    assert read_config(tmp_path) == {"apiBaseUrl": "", "appVersion": "dev"}
    assert api_origin(tmp_path) == ""


@pytest.mark.parametrize(
    "bad",
    [
        "javascript:alert(1)",
        "//evil.example",
        "ftp://files.example",
        "https://",
        "https://nexus.example.com/?q=1",
        "https://nexus.example.com/#frag",
        "https://user:pw@nexus.example.com",
        'https://nexus.example.com/"; add_header X 1; "',
        "https://nexus.example.com\nhttps://evil.example",
        "https://nexus.example.com evil",
        "nexus.example.com",
    ],
)
def test_malformed_api_base_url_stops_the_container(run_script: RunScript, tmp_path: Path, bad: str) -> None:
    (tmp_path / "config.js").write_text("previous config\n")
    (tmp_path / "nexus-runtime.conf").write_text("previous conf\n")
    proc = run_script(tmp_path, {"API_BASE_URL": bad})
    assert proc.returncode != 0
    assert "API_BASE_URL" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert (tmp_path / "config.js").read_text() == "previous config\n"
    assert (tmp_path / "nexus-runtime.conf").read_text() == "previous conf\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.js", "nexus-runtime.conf"]


def test_script_is_installed_executable_where_the_entrypoint_runs_it() -> None:
    assert os.access(ENTRYPOINT_SCRIPT, os.X_OK), "the nginx entrypoint skips scripts that are not executable"
    assert ENTRYPOINT_SCRIPT.read_text().startswith("#!/bin/sh\n")
    final = parse_dockerfile(REPO / "nginx" / "Dockerfile").final
    installs = [
        copy_parts(c) for c in final.all("COPY") if "nginx/docker-entrypoint.d/40-runtime-config.sh" in c.args
    ]
    assert len(installs) == 1
    flags, _, dest = installs[0]
    assert dest == "/docker-entrypoint.d/"
    assert flags.get("chmod") == "0755"


def test_index_html_loads_config_js_before_the_app() -> None:
    html = (REPO / "platform_ui" / "index.html").read_text()
    config_at = html.find('<script src="/config.js"></script>')
    app_at = html.find('<script type="module"')
    assert 0 <= config_at < app_at, "config.js must be a classic script that runs before the module"
    default = (REPO / "platform_ui" / "public" / "config.js").read_text()
    assert "window.__NEXUS_CONFIG__" in default  # `npm run dev` and a bare image have a config too
