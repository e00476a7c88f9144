"""What `make dev` runs: one `Proc` per long-running process (the five services, the dashboard
behind nginx, the fakes), and the environment that tells each where the others are."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .. import nginx_conf
from .common import HOST, REPO, DevError, env_value, mask_dsn, say, tcp_open
from .secretfile import load_secrets
from .seed import DEMO_APP_SECRET


@dataclass(frozen=True)
class Proc:
    """A long-running process. `argv` gets the process's actual port (offset applied).

    `env_defaults` are variables set for every process, only when unset, with `{url}` replaced by
    this process's base URL (http://127.0.0.1:<port>): how the others find it.
    `replaced_by`: for a fake, the variable that points the platform at the real thing instead
    (the seed steps that need this fake are skipped when it holds anything but the fake's URL).
    `links` are (label, path) rows for the table printed once everything is ready.
    """

    name: str
    port: int
    argv: Callable[[int], list[str]]
    ready_path: str = "/health/ready"
    env_defaults: dict[str, str] = field(default_factory=dict)
    replaced_by: str | None = None
    links: tuple[tuple[str, str], ...] = ()
    # Run once before the process starts (e.g. building the dashboard); raises DevError on failure.
    prepare: Callable[[], None] | None = None
    # Started (and its env_defaults applied) only when `make dev` is asked for it by this flag.
    opt_in: str | None = None


def uvicorn_service(
    name: str,
    port: int,
    *,
    env_defaults: dict[str, str] | None = None,
    links: tuple[tuple[str, str], ...] = (),
) -> Proc:
    def argv(actual_port: int) -> list[str]:
        return [
            sys.executable, "-m", "uvicorn", "--factory", f"{name}.app:create_app",
            "--host", HOST, "--port", str(actual_port),
            # Query strings can carry secrets (hub.verify_token): the services log paths themselves.
            "--no-access-log",
        ]  # fmt: skip

    return Proc(name=name, port=port, argv=argv, env_defaults=env_defaults or {}, links=links)


# --- The dashboard: the built platform_ui behind a real nginx, configured like the image's. ------
DASHBOARD_PORT = 8080
FAKE_GRAPH_PORT = 8090


def build_dashboard() -> None:
    """platform_ui/dist, rebuilt only when an input changed (scripts/build_ui.sh)."""
    say("dev: dashboard: scripts/build_ui.sh")
    result = subprocess.run(["bash", str(REPO / "scripts" / "build_ui.sh")], cwd=REPO, check=False)
    if result.returncode != 0:
        raise DevError("the dashboard build failed (scripts/build_ui.sh); see its output above")
    if nginx_conf.find_nginx() is None:
        raise DevError("nginx is not installed (run `make system-deps` or apt-get install nginx)")


def dashboard_argv(port: int) -> list[str]:
    """nginx serving platform_ui/dist on `port`, its upstreams the orchestrator and BFF of this run."""
    offset = port - DASHBOARD_PORT
    prefix = Path(env_value("NEXUS_DEV_DIR") or REPO / ".dev").resolve() / "nginx"
    try:
        conf = nginx_conf.write_config(
            prefix,
            port=port,
            root=REPO / "platform_ui" / "dist",
            upstreams={
                "orchestrator": f"http://{HOST}:{8000 + offset}",
                "bff": f"http://{HOST}:{3000 + offset}",
            },
        )
    except ValueError as exc:
        raise DevError(f"cannot render nginx/default.conf for dev: {exc}") from None
    return nginx_conf.nginx_argv(nginx_conf.find_nginx() or "nginx", conf, prefix)


def fake_graph_argv(port: int) -> list[str]:
    """The fake Meta Graph API: records what WhatsApp would deliver and posts the "sent"/
    "delivered" statuses back to this run's orchestrator, signed with the demo number's secret."""
    orchestrator = f"http://{HOST}:{8000 + port - FAKE_GRAPH_PORT}"
    return [
        sys.executable, "-m", "fakes.meta_graph", "--host", HOST, "--port", str(port),
        "--status-webhook", f"{orchestrator}/webhooks/whatsapp", "--app-secret", DEMO_APP_SECRET,
    ]  # fmt: skip


PROCESSES: list[Proc] = [
    uvicorn_service(
        "orchestrator",
        8000,
        env_defaults={"ORCHESTRATOR_URL": "{url}", "API_BASE_URL": "{url}"},
        links=(("API", "/"), ("API docs (OpenAPI)", "/docs")),
    ),
    uvicorn_service("agent_service", 8001, env_defaults={"AGENT_SERVICE_URL": "{url}"}),
    uvicorn_service("whatsapp_service", 8002, env_defaults={"WHATSAPP_SERVICE_URL": "{url}"}),
    uvicorn_service("tiendanube_service", 8003, env_defaults={"TIENDANUBE_SERVICE_URL": "{url}"}),
    uvicorn_service("bff", 3000, env_defaults={"BFF_URL": "{url}"}),
    Proc(
        name="dashboard",
        port=DASHBOARD_PORT,
        argv=dashboard_argv,
        # Through nginx to the orchestrator: ready means the whole browser path works.
        ready_path="/api/health/ready",
        env_defaults={"DASHBOARD_URL": "{url}"},
        links=(("(open in a browser)", "/"),),
        prepare=build_dashboard,
    ),
    # The demo store's platform (fakes/tiendanube): the seed installs it through the real OAuth callback.
    Proc(
        name="fake_tiendanube",
        port=8095,
        argv=lambda port: [sys.executable, "-m", "fakes.tiendanube", "--host", HOST, "--port", str(port)],
        ready_path="/__fake/stats",
        env_defaults={
            "TIENDANUBE_API_URL": "{url}/v1",
            "TIENDANUBE_AUTH_URL": "{url}/apps/authorize/token",
            # The fake's own app credentials (fakes/tiendanube/__main__.py defaults).
            "TIENDANUBE_CLIENT_ID": "4321",
            "TIENDANUBE_CLIENT_SECRET": "fake-app-secret-0123456789",
        },
        replaced_by="TIENDANUBE_API_URL",
    ),
    # The scripted OpenAI-compatible test double: only with `--fake-openai` (a new user must not
    # take a test double for the product; by default the platform's own offline responder answers).
    Proc(
        name="fake_openai",
        port=8092,
        argv=lambda port: [sys.executable, "-m", "fakes.openai", "--host", HOST, "--port", str(port)],
        ready_path="/v1/models",
        env_defaults={"OPENAI_BASE_URL": "{url}/v1", "OPENAI_API_KEY": "fake-openai-key-for-dev"},
        replaced_by="OPENAI_BASE_URL",
        opt_in="--fake-openai",
    ),
    # Where replies to the playground's (and the demo's) simulated customers go.
    Proc(
        name="fake_meta_graph",
        port=FAKE_GRAPH_PORT,
        argv=fake_graph_argv,
        ready_path="/_fake/sent",
        env_defaults={"WHATSAPP_GRAPH_URL": "{url}/v21.0"},
        replaced_by="WHATSAPP_GRAPH_URL",
    ),
]


def active(opted_in: tuple[str, ...] = ()) -> list[Proc]:
    """The processes this run starts: every one, except opt-in ones not asked for."""
    return [p for p in PROCESSES if p.opt_in is None or p.opt_in in opted_in]


def assistant_banner(env: dict[str, str], procs: list[Proc]) -> list[str]:
    """Who answers the customers in this run, and how to use a real model."""
    key = env.get("OPENAI_API_KEY", "").strip()
    fake = next((p for p in procs if p.name == "fake_openai"), None)
    if fake is not None and key == fake.env_defaults["OPENAI_API_KEY"]:
        return [
            "Assistant: the fake OpenAI server (--fake-openai), a scripted TEST DOUBLE, not a model.",
            "  For a real model: OPENAI_API_KEY=sk-... make dev (without the flag).",
        ]
    if key:
        base = env.get("OPENAI_BASE_URL", "").strip() or "https://api.openai.com/v1"
        return [f"Assistant: the OpenAI-compatible model at {mask_dsn(base)} (OPENAI_API_KEY is set)."]
    if env.get("ANTHROPIC_API_KEY", "").strip():
        return ["Assistant: Anthropic (ANTHROPIC_API_KEY is set)."]
    return [
        "Assistant: Nexus's own offline responder (no LLM key). It answers from the catalog, offers",
        "  products, fills the cart, sends the checkout link and reports orders.",
        "  For a real model: OPENAI_API_KEY=sk-... make dev (plus OPENAI_BASE_URL for any",
        "  OpenAI-compatible server) or ANTHROPIC_API_KEY=...",
        "  `make dev ARGS=--fake-openai` runs the scripted fake OpenAI server (a test double) instead.",
    ]


def defaults_for(proc: Proc, offset: int) -> dict[str, str]:
    url = f"http://{HOST}:{proc.port + offset}"
    return {key: template.replace("{url}", url) for key, template in proc.env_defaults.items()}


def build_env(state_dir: Path, offset: int, procs: list[Proc] | None = None) -> dict[str, str]:
    """Local defaults for every variable that is not already set (of the processes started)."""
    defaults: dict[str, str] = {
        "NEXUS_ENV": "development",
        "DATA_DIR": str(state_dir / "data"),
        "NEXUS_MIGRATIONS_DIR": str(REPO / "migrations"),
    }
    defaults.update(load_secrets(state_dir / "secrets.env"))
    for proc in active() if procs is None else procs:
        defaults.update(defaults_for(proc, offset))
    env = dict(os.environ)
    for key, value in defaults.items():
        if not env_value(key):
            env[key] = value
    env["PYTHONUNBUFFERED"] = "1"
    return env


def replaced_fakes(env: dict[str, str], offset: int, procs: list[Proc] | None = None) -> dict[str, str]:
    """Fake name -> why it is not in use ("TIENDANUBE_API_URL=https://..."): its variable was set
    to something other than the fake's own URL."""
    out: dict[str, str] = {}
    for proc in active() if procs is None else procs:
        if proc.replaced_by is None:
            continue
        own = defaults_for(proc, offset)[proc.replaced_by]
        value = env.get(proc.replaced_by, "").strip()
        if value and value != own:
            out[proc.name] = f"{proc.replaced_by}={mask_dsn(value)}"
    return out


def check_ports_free(offset: int, procs: list[Proc] | None = None) -> None:
    for proc in active() if procs is None else procs:
        port = proc.port + offset
        if not 0 < port < 65536:
            raise DevError(f"port offset {offset} puts {proc.name} on invalid port {port}")
        if tcp_open(HOST, port, timeout=0.5):
            raise DevError(
                f"port {port} ({proc.name}) is already in use: stop what holds it or use --port-offset N"
            )
