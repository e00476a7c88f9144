"""Fixtures for the deployment files: docker-compose.yml, the Dockerfiles, nginx, .env.example.

No Docker engine runs here, so these files are checked by reading them and by running the real
programs they configure (nginx, the nginx entrypoint script, uv) outside a container.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]

# The five Python services: compose name -> (workspace package, import name, port). All five are
# built from the one ./Dockerfile (build arguments SERVICE and PORT).
PYTHON_SERVICES: dict[str, tuple[str, str, int]] = {
    "orchestrator": ("nexus-orchestrator", "orchestrator", 8000),
    "agent_service": ("nexus-agent-service", "agent_service", 8001),
    "whatsapp_service": ("nexus-whatsapp-service", "whatsapp_service", 8002),
    "tiendanube_service": ("nexus-tiendanube-service", "tiendanube_service", 8003),
    "bff": ("nexus-bff", "bff", 3000),
}


# --- Dockerfile parsing ---------------------------------------------------------------------------


@dataclass
class Instruction:
    keyword: str  # upper-case: FROM, COPY, RUN, ...
    args: str  # the rest of the logical line, continuation lines joined

    def exec_form(self) -> list[str] | None:
        """The JSON (exec) form of CMD/ENTRYPOINT/HEALTHCHECK CMD, if that is how it is written."""
        text = self.args
        if self.keyword == "HEALTHCHECK":
            text = text.split(" CMD ", 1)[1] if " CMD " in f" {text}" else ""
        text = text.strip()
        if not text.startswith("["):
            return None
        value = json.loads(text)
        assert isinstance(value, list)
        return [str(v) for v in value]


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


@dataclass
class Dockerfile:
    path: Path
    stages: list[Stage]
    global_args: list[str] = field(default_factory=list)  # ARG lines before the first FROM

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    def stage(self, name: str) -> Stage:
        (found,) = [s for s in self.stages if s.name == name]
        return found

    def chain(self, target: str) -> list[Stage]:
        """The stage `target` and the stages it is built FROM, base first (what `--target` builds
        into the image)."""
        names = {s.name for s in self.stages}
        out = [self.stage(target)]
        while out[0].base in names:
            out.insert(0, self.stage(out[0].base))
        return out

    def instructions(self, target: str, keyword: str, args: dict[str, str]) -> list[Instruction]:
        """Every `keyword` instruction of the target's chain, build arguments substituted."""
        return [
            Instruction(i.keyword, substitute(i.args, args))
            for stage in self.chain(target)
            for i in stage.all(keyword)
        ]


def substitute(text: str, args: dict[str, str]) -> str:
    """Docker's ${NAME} / $NAME substitution of build arguments (unknown names are left alone)."""
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args.get(m.group(1) or m.group(2), m.group(0)), text)


def parse_dockerfile(path: Path) -> Dockerfile:
    logical: list[str] = []
    buf = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not buf and (not line or line.startswith("#")):
            continue
        if buf and line.startswith("#"):
            continue  # comment lines inside a continued instruction are dropped by Docker too
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        logical.append(buf + line)
        buf = ""
    assert not buf, f"{path}: dangling line continuation"

    stages: list[Stage] = []
    global_args: list[str] = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        args = re.sub(r"\s+", " ", args).strip()
        if keyword == "FROM":
            m = re.fullmatch(r"(?:--platform=\S+ )?(\S+)(?: AS (\S+))?", args, flags=re.IGNORECASE)
            assert m, f"{path}: cannot parse FROM {args!r}"
            stages.append(Stage(base=m.group(1), name=m.group(2)))
        elif not stages:
            assert keyword == "ARG", f"{path}: {keyword} before the first FROM"
            global_args.append(args)
        else:
            stages[-1].instructions.append(Instruction(keyword, args))
    return Dockerfile(path, stages, global_args)


PYTHON_DOCKERFILE = REPO / "Dockerfile"
# The Dockerfile's stage each service is built to: the orchestrator and whatsapp_service add files.
PYTHON_TARGETS = {
    "orchestrator": "orchestrator",
    "agent_service": "service",
    "whatsapp_service": "whatsapp_service",
    "tiendanube_service": "service",
    "bff": "service",
}


def build_args(svc: str) -> dict[str, str]:
    """What docker-compose.yml passes (checked in test_compose)."""
    return {"SERVICE": svc, "PORT": str(PYTHON_SERVICES[svc][2])}


def copy_parts(instr: Instruction) -> tuple[dict[str, str], list[str], str]:
    """COPY flags (--from, --chmod, ...), sources and destination."""
    words = instr.args.split(" ")
    flags = {}
    while words and words[0].startswith("--"):
        key, _, value = words.pop(0)[2:].partition("=")
        flags[key] = value
    return flags, words[:-1], words[-1]


# --- Compose and .env.example ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def compose_text() -> str:
    return (REPO / "docker-compose.yml").read_text()


@pytest.fixture(scope="session")
def compose(compose_text: str) -> dict[str, Any]:
    data = yaml.safe_load(compose_text)
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="session")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    svcs = compose["services"]
    assert isinstance(svcs, dict)
    return svcs


@dataclass
class EnvEntry:
    name: str
    value: str
    comment: str  # the comment line right above the assignment ("" if there is none)
    line: int


def parse_env_example(text: str) -> list[EnvEntry]:
    entries: list[EnvEntry] = []
    previous = ""
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", line)
        if m:
            value = m.group(2)
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            comment = previous[1:].strip() if previous.startswith("#") else ""
            entries.append(EnvEntry(m.group(1), value, comment, n))
        else:
            assert not line or line.startswith("#"), (
                f".env.example line {n} is neither a comment nor NAME=value"
            )
        previous = line
    return entries


@pytest.fixture(scope="session")
def env_example() -> list[EnvEntry]:
    return parse_env_example((REPO / ".env.example").read_text())


# --- System programs (real nginx and busybox, installed when missing) ----------------------------


def _find(program: str) -> str | None:
    found = shutil.which(program)
    if found:
        return found
    for directory in ("/usr/sbin", "/usr/bin", "/sbin"):  # not on a non-root PATH
        candidate = Path(directory, program)
        if os.access(candidate, os.X_OK):
            return str(candidate)
    return None


@pytest.fixture(scope="session")
def system_programs() -> dict[str, str]:
    """nginx (the proxy tests) and busybox (the shell and tools of the nginx:alpine image).

    Installed with apt-get when missing. If that is impossible the tests using them fail: a
    proxy configuration nobody ran is not a tested one.
    """
    wanted = {"nginx": "nginx", "busybox": "busybox"}
    missing = [pkg for prog, pkg in wanted.items() if _find(prog) is None]
    if missing:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=False, capture_output=True)
        proc = subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
            env=env,
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, f"cannot install {missing}: {proc.stderr[-2000:]}"
    found = {prog: _find(prog) for prog in wanted}
    assert all(found.values()), f"not installed: {[p for p, f in found.items() if not f]}"
    return {prog: str(path) for prog, path in found.items()}


@pytest.fixture(scope="session")
def nginx_bin(system_programs: dict[str, str]) -> str:
    return system_programs["nginx"]


@pytest.fixture(scope="session")
def busybox_bin(system_programs: dict[str, str]) -> str:
    return system_programs["busybox"]
