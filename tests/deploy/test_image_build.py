"""Each Python service's image build stage (./Dockerfile), carried out without Docker.

The COPY and RUN instructions of the build stage are replayed as written, with the service's
build arguments (SERVICE and PORT, as docker-compose.yml passes them), into a temporary directory
standing in for /app (files .dockerignore leaves out are left out here too), with the host's uv,
which must be the version the Dockerfile copies in. Then the app factory the image starts must
import from the resulting virtualenv alone: that catches a member pyproject not copied, a wrong
--package, a source directory missing from the image or an editable install that would point
outside it.
"""

from __future__ import annotations

import ast
import functools
import gc
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import (
    PYTHON_DOCKERFILE,
    PYTHON_SERVICES,
    REPO,
    Instruction,
    build_args,
    copy_parts,
    parse_dockerfile,
    substitute,
)
from .test_dockerfiles import is_ignored, uv_version

HOST_ONLY = {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "UV_LINK_MODE", "UV_COMPILE_BYTECODE", "UV_PYTHON"}


def _copy_into(src: Path, dest: Path, dest_is_dir: bool) -> None:
    """Docker's COPY: a file goes into dest when dest is a directory (written with a trailing /),
    a directory's contents go into dest."""
    if src.is_file():
        target = dest / src.name if dest_is_dir else dest
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
        return
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(REPO).as_posix()
        if path.is_dir() or is_ignored(rel):
            continue
        target = dest / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def _parse_env(args: str) -> dict[str, str]:
    return dict(word.split("=", 1) for word in shlex.split(args))


# Run by the image's python: where the app module is, and which imported modules are missing.
PROBE = """
import importlib.util, json, sys
req = json.loads(sys.argv[1])
spec = importlib.util.find_spec(req["app"])
missing = [m for m in req["needed"] if importlib.util.find_spec(m) is None]
print(json.dumps({"app": spec.origin if spec else None, "missing": missing}))
"""


def _optional(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """An import under `if TYPE_CHECKING:` or in a `try:` that catches ImportError."""
    child, parent = node, parents.get(node)
    while parent is not None:
        if (
            isinstance(parent, ast.If)
            and "TYPE_CHECKING" in ast.unparse(parent.test)
            and child in parent.body
        ):
            return True
        if isinstance(parent, ast.Try) and child in parent.body:
            caught = " ".join(ast.unparse(h.type) for h in parent.handlers if h.type is not None)
            if "ImportError" in caught or "ModuleNotFoundError" in caught:
                return True
        child, parent = parent, parents.get(parent)
    return False


def _parse(path: Path) -> ast.Module:
    """`ast.parse` with the cyclic GC off. CPython 3.11 keeps the AST constructor's recursion
    count in one interpreter-wide state: a collection during the conversion can run a finalizer
    whose own traceback formatting parses source (3.11's caret anchors) and leaves the count
    off ("AST constructor recursion depth mismatch", seen in CI after the earlier tests had left
    objects with finalizers behind). Without a collection the conversion runs no Python code."""
    source = path.read_text()
    enabled = gc.isenabled()
    gc.disable()
    try:
        return ast.parse(source, filename=str(path))
    finally:
        if enabled:
            gc.enable()


@functools.cache
def _imports_under(src: Path) -> frozenset[str]:
    """Top-level modules imported (not optionally) by the sources under `src`. Parsed once per
    tree and only from the main thread: CPython 3.11's `ast` is not thread-safe ("AST constructor
    recursion depth mismatch" when the image builds below parsed in parallel)."""
    found: set[str] = set()
    for path in src.rglob("*.py"):
        tree = _parse(path)
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            if not _optional(node, parents):
                found.update(n.split(".")[0] for n in names)
    return frozenset(found)


def imported_modules(svc: str) -> set[str]:
    """Top-level third-party modules imported by the service's and nexus_common's sources."""
    module = PYTHON_SERVICES[svc][1]
    own = {module, "nexus_common"}
    found = _imports_under(REPO / svc / "src") | _imports_under(REPO / "libs" / "nexus_common" / "src")
    return {m for m in found if m not in sys.stdlib_module_names and m not in own and m != "__future__"}


@dataclass
class Built:
    app: Path  # stands in for /app
    error: str | None  # the instruction that failed, with its output
    probe: subprocess.CompletedProcess[str] | None = None


def replay_build_stage(svc: str, app: Path, needed: list[str]) -> Built:
    module = PYTHON_SERVICES[svc][1]
    args = build_args(svc)
    df = parse_dockerfile(PYTHON_DOCKERFILE)
    app.mkdir(parents=True)
    # The machine's environment (its proxy and CA settings reach PyPI) minus what points at the
    # repository's own venv, which the `uv run` that started pytest sets.
    env = {k: v for k, v in os.environ.items() if k not in HOST_ONLY and not k.startswith("UV_PROJECT")}

    for instr in df.stage("build").instructions:
        if instr.keyword == "ARG":
            # A build argument reaches RUN as a variable (and COPY by substitution, below).
            name = instr.args.split("=", 1)[0]
            if name not in df.global_args and "=" not in instr.args:
                return Built(app, f"ARG {name}: not a build argument the image declares")
            env[name] = args[name]
            continue
        instr = Instruction(instr.keyword, substitute(instr.args, args))
        if instr.keyword == "WORKDIR":
            if instr.args != "/app":
                return Built(app, f"WORKDIR {instr.args}: expected /app")
        elif instr.keyword == "ENV":
            env.update({k: v.replace("/app", str(app)) for k, v in _parse_env(instr.args).items()})
        elif instr.keyword == "COPY":
            flags, sources, dest = copy_parts(instr)
            if "from" in flags:
                if flags["from"] != f"ghcr.io/astral-sh/uv:{uv_version()}":
                    return Built(app, f"COPY --from={flags['from']}: not the pinned uv image")
                continue
            for src in sources:
                _copy_into(REPO / src, app / dest, dest_is_dir=dest.endswith("/") or len(sources) > 1)
        elif instr.keyword == "RUN":
            command = re.sub(r"--mount=\S+\s*", "", instr.args).strip()
            # Speed only, the same packages get installed: no bytecode compilation, and links
            # into uv's cache instead of copies.
            fast = {**env, "UV_COMPILE_BYTECODE": "0", "UV_LINK_MODE": "symlink"}
            proc = subprocess.run(
                ["sh", "-c", command], cwd=app, env=fast, capture_output=True, text=True, timeout=300
            )
            if proc.returncode != 0:
                return Built(app, f"RUN {command}\n{proc.stderr[-3000:]}")
        else:
            return Built(app, f"{instr.keyword} in the build stage is not replayed by this test")

    # Every module the shipped code imports must resolve inside the venv alone: a dependency
    # declared only in the dev environment would crash the container at start. Resolved with
    # find_spec rather than imported: importing would run (and, without bytecode, compile) the
    # whole application for every image, which is slow and proves no more about packaging.
    probe = subprocess.run(
        [
            str(app / ".venv" / "bin" / "python"),
            "-c",
            PROBE,
            json.dumps({"app": f"{module}.app", "needed": needed}),
        ],
        cwd=app.parent,  # not the repository: nothing may be found in the source tree
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return Built(app, None, probe)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    uv = shutil.which("uv")
    assert uv, "uv is not on PATH"
    out = subprocess.run([uv, "--version"], capture_output=True, text=True, check=True).stdout
    assert out.split()[1] == uv_version(), f"host {out.strip()} differs from the images' uv {uv_version()}"
    base = tmp_path_factory.mktemp("images")
    with ThreadPoolExecutor(max_workers=len(PYTHON_SERVICES)) as pool:
        needed = {
            svc: sorted(imported_modules(svc)) for svc in PYTHON_SERVICES
        }  # parsed here, not in threads
        futures = {
            svc: pool.submit(replay_build_stage, svc, base / svc / "app", needed[svc])
            for svc in PYTHON_SERVICES
        }
        return {svc: f.result() for svc, f in futures.items()}


@pytest.mark.parametrize("svc", list(PYTHON_SERVICES))
def test_build_stage_produces_a_venv_that_runs_the_service(svc: str, built: dict[str, Built]) -> None:
    result = built[svc]
    assert result.error is None, result.error
    assert result.probe is not None
    assert result.probe.returncode == 0, result.probe.stderr[-3000:]
    venv = result.app / ".venv"
    assert (venv / "bin" / "uvicorn").exists(), "CMD runs uvicorn from the venv"
    answer = json.loads(result.probe.stdout)
    module = PYTHON_SERVICES[svc][1]
    assert answer["app"], f"{module}.app is not installed in the image"
    assert Path(answer["app"]).is_relative_to(venv), (
        f"{module}.app found at {answer['app']}, outside the venv"
    )
    assert answer["missing"] == [], (
        f"imported by the code but not installed in the {svc} image: {answer['missing']}"
    )
    # Only this service and what it depends on: no other service is installed next to it.
    site = venv / "lib" / "python3.11" / "site-packages"
    assert (site / "nexus_common").is_dir()
    for other, (_, other_module, _) in PYTHON_SERVICES.items():
        if other != svc:
            assert not (site / other_module).exists(), f"{other} is installed in the {svc} image"
