"""The Dockerfiles and .dockerignore, read the way `docker build` reads them."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from .conftest import (
    PYTHON_DOCKERFILE,
    PYTHON_SERVICES,
    PYTHON_TARGETS,
    REPO,
    Dockerfile,
    build_args,
    copy_parts,
    parse_dockerfile,
    substitute,
)

ROOT_PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
MEMBERS: list[str] = ROOT_PYPROJECT["tool"]["uv"]["workspace"]["members"]


def member_package(member: str) -> str:
    return str(tomllib.loads((REPO / member / "pyproject.toml").read_text())["project"]["name"])


def uv_version() -> str:
    """The uv the project pins (Makefile); the images must build with the same one."""
    m = re.search(r"^UV_VERSION\s*:?=\s*(\S+)", (REPO / "Makefile").read_text(), flags=re.MULTILINE)
    assert m, "Makefile no longer pins UV_VERSION"
    return m.group(1)


# --- .dockerignore, matched like Docker does (Go filepath.Match plus `**`, last match wins) -------


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
            continue
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            continue
        if c == "*":
            out += "[^/]*"
        elif c == "?":
            out += "[^/]"
        elif c == "[":
            end = pattern.index("]", i)
            out += "[" + pattern[i + 1 : end].replace("!", "^", 1) + "]"
            i = end
        else:
            out += re.escape(c)
        i += 1
    return re.compile(out)


def dockerignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for raw in (REPO / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line[1:] if negate else line
        rules.append((negate, _pattern_regex(pattern.strip("/").removeprefix("./"))))
    return rules


def is_ignored(path: str) -> bool:
    """A path is left out of the build context if it, or a directory above it, is ignored."""
    rules = dockerignore_rules()
    parts = path.strip("/").split("/")
    ignored = False
    for depth in range(1, len(parts) + 1):
        candidate = "/".join(parts[:depth])
        for negate, rx in rules:
            if rx.fullmatch(candidate):
                ignored = not negate
    return ignored


@pytest.mark.parametrize(
    "path",
    [
        ".git/HEAD",
        ".env",
        ".env.production",
        ".venv/bin/python",
        "orchestrator/.venv/bin/python",
        "platform_ui/node_modules/react/index.js",
        "platform_ui/dist/index.html",
        "libs/nexus_common/src/nexus_common/__pycache__/app.cpython-311.pyc",
        ".pytest_cache/v/cache",
        ".dev/postgres/PG_VERSION",
        "data/chroma/chroma.sqlite3",
        "tests/conftest.py",
    ],
)
def test_dockerignore_keeps_secrets_state_and_caches_out(path: str) -> None:
    assert is_ignored(path)


@pytest.mark.parametrize(
    "path",
    [
        "pyproject.toml",
        "uv.lock",
        "migrations/env.py",
        "libs/nexus_common/src/nexus_common/app.py",
        "orchestrator/src/orchestrator/app.py",
        # Names that are also local-state directories at the root must survive inside packages.
        "orchestrator/src/orchestrator/data/__init__.py",
        "whatsapp_service/src/whatsapp_service/sessions.py",
        "platform_ui/package-lock.json",
        "platform_ui/src/main.tsx",
        "nginx/default.conf",
    ],
)
def test_dockerignore_keeps_what_the_images_need(path: str) -> None:
    assert not is_ignored(path)


def context_sources(df: Dockerfile, args: dict[str, str] | None = None) -> list[str]:
    """Every path a Dockerfile COPYs from the build context (not from another stage or image)."""
    out = []
    for stage in df.stages:
        for instr in stage.all("COPY") + stage.all("ADD"):
            flags, sources, _ = copy_parts(instr)
            if "from" not in flags:
                out.extend(substitute(src, args or {}) for src in sources)
    return out


@pytest.mark.parametrize("svc", [*PYTHON_SERVICES, "nginx"])
def test_every_copied_path_exists_and_is_in_the_build_context(svc: str) -> None:
    if svc == "nginx":
        df, args = parse_dockerfile(REPO / "nginx" / "Dockerfile"), {}
    else:
        df, args = parse_dockerfile(PYTHON_DOCKERFILE), build_args(svc)
    sources = context_sources(df, args)
    assert sources
    for src in sources:
        assert "$" not in src, f"{df.path.name}: COPY {src}: a build argument left unset"
        assert (REPO / src).exists(), f"{df.path.name} ({svc}): COPY {src} does not exist"
        assert not is_ignored(src), f"{df.path.name} ({svc}): COPY {src} is excluded by .dockerignore"


# --- The Python service images: one Dockerfile, built per service with SERVICE and PORT ---------


DF = parse_dockerfile(PYTHON_DOCKERFILE)


def test_no_dockerfile_per_python_service() -> None:
    assert DF.global_args == ["SERVICE", "PORT"]
    for svc in PYTHON_SERVICES:
        assert not (REPO / svc / "Dockerfile").exists(), f"{svc}/Dockerfile: the services share ./Dockerfile"


def test_multi_stage_on_python_311_slim_with_the_pinned_uv() -> None:
    names = [s.name for s in DF.stages]
    for stage in DF.stages:  # every stage is python:3.11-slim or built on an earlier one
        assert stage.base == "python:3.11-slim" or stage.base in names[: names.index(stage.name)]
    build = DF.stage("build")
    uv_copies = [copy_parts(c) for c in build.all("COPY") if "from" in copy_parts(c)[0]]
    assert uv_copies == [({"from": f"ghcr.io/astral-sh/uv:{uv_version()}"}, ["/uv", "/uvx"], "/bin/")]
    for target in set(PYTHON_TARGETS.values()):  # nothing from uv reaches a runtime image
        assert "build" not in [s.name for s in DF.chain(target)]
        assert not [c for c in DF.instructions(target, "COPY", {}) if "astral-sh/uv" in c.args]


@pytest.mark.parametrize("svc", list(PYTHON_SERVICES))
def test_uv_sync_installs_this_member_frozen_from_the_whole_workspace(svc: str) -> None:
    package = PYTHON_SERVICES[svc][0]
    member_dirs = {m: member_package(m) for m in MEMBERS}
    assert member_dirs.get(svc) == package, f"{svc} is not the workspace member {package}"
    args = build_args(svc)
    copied = {tuple(copy_parts(c)[1]) for c in DF.instructions("build", "COPY", args)}
    assert ("pyproject.toml", "uv.lock") in copied
    for member in MEMBERS:  # uv loads every member's pyproject to read the workspace
        assert (f"{member}/pyproject.toml",) in copied, (
            f"the Dockerfile does not copy {member}/pyproject.toml"
        )
    syncs = [r.args for r in DF.instructions("build", "RUN", args) if "uv sync" in r.args]
    assert syncs, "no uv sync"
    for cmd in syncs:
        assert "--frozen" in cmd and "--no-dev" in cmd
        m = re.search(r'--package "?([\w-]+)"?', cmd)
        assert m, cmd
        # uv normalises the name (PEP 503): nexus-agent_service is nexus-agent-service.
        assert re.sub(r"[-_.]+", "-", m.group(1)) == package, cmd
    assert "--no-editable" in syncs[-1], "the runtime stage copies only the venv: install non-editable"
    # The sources the last sync builds: the shared library and the service itself.
    assert ("libs/nexus_common/",) in copied and (f"{svc}/",) in copied


@pytest.mark.parametrize("svc", list(PYTHON_SERVICES))
def test_runtime_stage_runs_the_venv_as_a_fixed_non_root_user(svc: str) -> None:
    target, args = PYTHON_TARGETS[svc], build_args(svc)
    venv = [copy_parts(c) for c in DF.instructions(target, "COPY", args) if "from" in copy_parts(c)[0]]
    assert venv == [({"from": "build"}, ["/app/.venv"], "/app/.venv")]
    users = DF.instructions(target, "USER", args)
    assert users, "no USER: the service would run as root"
    user = users[-1].args.split(":")[0]
    assert user not in ("root", "0")
    runs = " ".join(r.args for r in DF.instructions(target, "RUN", args))
    assert re.search(rf"--uid {user}\b", runs), "uid must be fixed"
    env = " ".join(e.args for e in DF.instructions(target, "ENV", args))
    assert "PATH=/app/.venv/bin:$PATH" in env and "PYTHONUNBUFFERED=1" in env
    exposed = [e.args for e in DF.instructions(target, "EXPOSE", args)]
    # The orchestrator's internal listener too (never published by compose).
    assert exposed == [args["PORT"], *(["8010"] if svc == "orchestrator" else [])]


def image_env(svc: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for instr in DF.instructions(PYTHON_TARGETS[svc], "ENV", build_args(svc)):
        out.update(word.split("=", 1) for word in shlex.split(instr.args))
    return out


@pytest.mark.parametrize("svc", list(PYTHON_SERVICES))
def test_cmd_starts_the_app_factory_that_exists(svc: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """CMD is bare `uvicorn`; uvicorn's own command line, given the image's environment, must
    read the service's app factory, its port, all interfaces and the proxy headers from it."""
    from uvicorn.main import main as uvicorn_cli

    _, module, port = PYTHON_SERVICES[svc]
    cmd = DF.instructions(PYTHON_TARGETS[svc], "CMD", build_args(svc))[-1]  # the last CMD wins
    if svc == "orchestrator":
        # Two listeners (public UVICORN_PORT, internal NEXUS_INTERNAL_PORT), one app factory.
        assert cmd.exec_form() == ["python", "-m", "orchestrator.listeners.serve"]
        from orchestrator.listeners import serve

        env = image_env(svc)
        assert (env["UVICORN_PORT"], env["NEXUS_INTERNAL_PORT"]) == (str(port), "8010")
        source = (REPO / "orchestrator/src/orchestrator/listeners/serve.py").read_text()
        assert '"orchestrator.app:create_app"' in source and "proxy_headers=True" in source
        assert callable(serve.main)
        return
    assert cmd.exec_form() == ["uvicorn"]
    for key in [k for k in os.environ if k.startswith("UVICORN_")]:
        monkeypatch.delenv(key)
    for key, value in image_env(svc).items():
        monkeypatch.setenv(key, value)
    ctx = uvicorn_cli.make_context("uvicorn", [])
    assert ctx.params["app"] == f"{module}.app:create_app"
    assert ctx.params["factory"] is True and ctx.params["proxy_headers"] is True
    assert (ctx.params["host"], ctx.params["port"]) == ("0.0.0.0", port)
    app = REPO / svc / "src" / module / "app.py"
    assert app.exists(), f"UVICORN_APP names {module}.app but {app.relative_to(REPO)} does not exist"
    assert re.search(r"^def create_app\(", app.read_text(), flags=re.MULTILINE)


@pytest.mark.parametrize("svc", list(PYTHON_SERVICES))
def test_healthcheck_probes_readiness_without_curl(svc: str, services: dict[str, Any]) -> None:
    port = PYTHON_SERVICES[svc][2]
    (hc,) = DF.instructions(PYTHON_TARGETS[svc], "HEALTHCHECK", build_args(svc))
    probe = hc.exec_form()
    assert probe is not None and probe[:2] == ["python", "-c"]
    # The image's probe reads the port uvicorn listens on; compose runs the same with it written out.
    assert "http://127.0.0.1:%s/health/ready' % os.environ['UVICORN_PORT']" in probe[2]
    assert image_env(svc)["UVICORN_PORT"] == str(port)
    test = services[svc]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    assert f"http://127.0.0.1:{port}/health/ready" in test[3]


def test_orchestrator_image_carries_migrations_and_its_data_dir() -> None:
    args = build_args("orchestrator")
    copies = [copy_parts(c)[1:] for c in DF.instructions("orchestrator", "COPY", args)]
    assert (["migrations/"], "/app/migrations/") in copies
    assert (REPO / "migrations" / "env.py").exists()
    runs = " ".join(r.args for r in DF.instructions("orchestrator", "RUN", args))
    # A fresh named volume takes the ownership of the image's directory: it must be the app user's.
    assert "mkdir -p /app/data" in runs and "chown nexus:nexus /app/data" in runs
    assert "DATA_DIR=/app/data" in " ".join(e.args for e in DF.instructions("orchestrator", "ENV", args))
    # Only the orchestrator's image carries them.
    for target in ("service", "whatsapp_service"):
        assert "migrations" not in " ".join(c.args for c in DF.instructions(target, "COPY", {}))


def test_whatsapp_image_owns_its_sessions_dir() -> None:
    runs = " ".join(
        r.args for r in DF.instructions("whatsapp_service", "RUN", build_args("whatsapp_service"))
    )
    assert "mkdir -p /app/sessions" in runs and "chown nexus:nexus /app/sessions" in runs


# --- The nginx image -----------------------------------------------------------------------------


def test_nginx_image_builds_the_dashboard_and_serves_it() -> None:
    df = parse_dockerfile(REPO / "nginx" / "Dockerfile")
    assert len(df.stages) == 2
    ui, final = df.stages
    assert ui.base.startswith("node:20") and ui.name
    runs = [r.args for r in ui.all("RUN")]
    assert any(r.endswith("npm ci --no-audit --no-fund") for r in runs)
    assert "npm run build" in runs
    assert (["platform_ui/package.json", "platform_ui/package-lock.json"], "./") in [
        copy_parts(c)[1:] for c in ui.all("COPY")
    ]
    assert final.base == "nginx:1.27-alpine"
    copies = [copy_parts(c) for c in final.all("COPY")]
    assert ({}, ["nginx/default.conf", "nginx/nexus-runtime.conf"], "/etc/nginx/conf.d/") in copies
    assert ({"from": ui.name}, ["/ui/dist/"], "/usr/share/nginx/html/") in copies
    assert [e.args for e in final.all("EXPOSE")] == ["80"]
    (hc,) = final.all("HEALTHCHECK")
    assert "http://127.0.0.1/healthz" in hc.args


def test_npm_ci_accepts_the_lock(tmp_path: Path) -> None:
    """nginx/Dockerfile and scripts/build_ui.sh run `npm ci`, which refuses a lock that does not
    match package.json (e.g. the optional rollup/esbuild builds of other platforms missing).
    npm itself judges it here: a dry run in a copy, so node_modules is left alone."""
    npm = shutil.which("npm")
    assert npm, "npm is missing (Node.js >= 20.19 needed)"
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(REPO / "platform_ui" / name, tmp_path / name)
    proc = subprocess.run(
        [npm, "ci", "--dry-run", "--ignore-scripts", "--no-audit", "--no-fund"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"npm ci refuses platform_ui/package-lock.json:\n{proc.stderr[-3000:]}"
    # The build stage's own native builds are among them (npm/cli#4828).
    ui = parse_dockerfile(REPO / "nginx" / "Dockerfile").stages[0]
    libc = "musl" if "alpine" in ui.base else "gnu"
    locked = json.loads((REPO / "platform_ui" / "package-lock.json").read_text())["packages"]
    for arch in ("x64", "arm64"):
        assert f"node_modules/@rollup/rollup-linux-{arch}-{libc}" in locked


def test_platform_ui_dependencies_are_pinned() -> None:
    pkg = json.loads((REPO / "platform_ui" / "package.json").read_text())
    assert "build" in pkg["scripts"]
    for section in ("dependencies", "devDependencies"):
        for name, version in pkg[section].items():
            assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name}@{version} is not pinned"
    locked = json.loads((REPO / "platform_ui" / "package-lock.json").read_text())["packages"][""]
    assert locked["dependencies"] == pkg["dependencies"]
    assert locked["devDependencies"] == pkg["devDependencies"]


def test_ui_build_output_is_not_committed() -> None:
    ignored = (REPO / ".gitignore").read_text().split()
    assert "platform_ui/node_modules/" in ignored and "platform_ui/dist/" in ignored
