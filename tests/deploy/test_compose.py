"""docker-compose.yml against DESIGN.md §1: services, ports, health, start order, volumes, network."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import PYTHON_DOCKERFILE, PYTHON_SERVICES, PYTHON_TARGETS, build_args, parse_dockerfile

ALL_SERVICES = {"nginx", *PYTHON_SERVICES, "redis", "postgres"}
# DESIGN.md §1: Redis accelerates, it is never required; nothing may wait for it to be healthy.
OPTIONAL_DEPENDENCIES = {"redis"}


def test_exactly_the_eight_services(services: dict[str, Any]) -> None:
    assert set(services) == ALL_SERVICES


def test_only_nginx_80_and_orchestrator_8000_are_published(services: dict[str, Any]) -> None:
    published = {name: svc["ports"] for name, svc in services.items() if svc.get("ports")}
    assert published == {"nginx": ["80:80"], "orchestrator": ["8000:8000"]}
    for name, svc in services.items():
        assert svc.get("network_mode") is None, f"{name} bypasses the network (and its port isolation)"


def test_every_service_has_a_healthcheck(services: dict[str, Any]) -> None:
    for name, svc in services.items():
        hc = svc.get("healthcheck")
        assert hc and not hc.get("disable"), f"{name} has no healthcheck"
        test = hc["test"]
        assert isinstance(test, list) and test[0] in ("CMD", "CMD-SHELL"), f"{name}: {test}"
        for key in ("interval", "timeout", "retries"):
            assert key in hc, f"{name} healthcheck has no {key}"


def test_healthcheck_commands(services: dict[str, Any]) -> None:
    for name, (_, _, port) in PYTHON_SERVICES.items():
        test = services[name]["healthcheck"]["test"]
        assert test[:3] == ["CMD", "python", "-c"], "python:slim has no curl"
        assert f"http://127.0.0.1:{port}/health/ready" in test[3]
    assert "redis-cli ping" in services["redis"]["healthcheck"]["test"][1]
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"][1]
    assert "http://127.0.0.1/healthz" in services["nginx"]["healthcheck"]["test"]


def test_start_order_waits_for_health(services: dict[str, Any]) -> None:
    for name, svc in services.items():
        deps = svc.get("depends_on") or {}
        assert isinstance(deps, dict), f"{name}: depends_on needs the long form with a condition"
        for dep, spec in deps.items():
            assert dep in services, f"{name} depends on unknown {dep}"
            want = "service_started" if dep in OPTIONAL_DEPENDENCIES else "service_healthy"
            assert spec == {"condition": want}, f"{name} -> {dep}: {spec}"
    assert services["orchestrator"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_started"},
    }
    assert services["nginx"]["depends_on"] == {
        "orchestrator": {"condition": "service_healthy"},
        "bff": {"condition": "service_healthy"},
    }


def test_depends_on_has_no_cycle(services: dict[str, Any]) -> None:
    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"dependency cycle: {' -> '.join((*path, name))}"
        for dep in services[name].get("depends_on") or {}:
            visit(dep, (*path, name))

    for name in services:
        visit(name, ())


@pytest.mark.parametrize(
    ("volume", "service", "path"),
    [
        ("postgres_data", "postgres", "/var/lib/postgresql/data"),
        ("whatsapp_sessions", "whatsapp_service", "/app/sessions"),
        ("orchestrator_data", "orchestrator", "/app/data"),
    ],
)
def test_named_volumes(
    compose: dict[str, Any], services: dict[str, Any], volume: str, service: str, path: str
) -> None:
    assert volume in (compose.get("volumes") or {})
    assert f"{volume}:{path}" in services[service].get("volumes", [])
    users = [
        n for n, s in services.items() if any(str(v).startswith(f"{volume}:") for v in s.get("volumes", []))
    ]
    assert users == [service]


def test_no_undeclared_or_host_path_volumes(compose: dict[str, Any], services: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    for name, svc in services.items():
        for v in svc.get("volumes", []):
            source = str(v).split(":", 1)[0]
            assert source in declared, f"{name} mounts {source!r}, not a declared named volume"


def test_orchestrator_data_dir_is_the_volume(services: dict[str, Any]) -> None:
    assert services["orchestrator"]["environment"]["DATA_DIR"] == "/app/data"


def test_one_network_for_everyone(compose: dict[str, Any], services: dict[str, Any]) -> None:
    networks = compose.get("networks") or {}
    assert len(networks) == 1
    (net,) = networks
    for name, svc in services.items():
        nets = svc.get("networks")
        assert list(nets) == [net], f"{name} is on {nets}"
    # nginx has a fixed address inside the network's subnet: the only one the orchestrator
    # believes X-Forwarded-For from.
    subnet = compose["networks"][net]["ipam"]["config"][0]["subnet"]
    address = services["nginx"]["networks"][net]["ipv4_address"]
    assert subnet == "${NEXUS_SUBNET:-172.28.0.0/24}" and address == "${NGINX_ADDRESS:-172.28.0.10}"
    assert (
        services["orchestrator"]["environment"]["FORWARDED_ALLOW_IPS"]
        == "${FORWARDED_ALLOW_IPS:-172.28.0.10}"
    )


def test_restart_policy(services: dict[str, Any]) -> None:
    for name, svc in services.items():
        assert svc.get("restart") == "unless-stopped", name


def test_builds_from_the_repository_root(services: dict[str, Any]) -> None:
    assert services["nginx"]["build"] == {"context": ".", "dockerfile": "nginx/Dockerfile"}
    stages = {s.name for s in parse_dockerfile(PYTHON_DOCKERFILE).stages}
    for name in PYTHON_SERVICES:
        # The one ./Dockerfile, told which service and port, built to the stage that service needs.
        build = services[name]["build"]
        assert build == {"context": ".", "args": build_args(name), "target": PYTHON_TARGETS[name]}, name
        assert build["target"] in stages
    assert services["redis"]["image"] == "redis:7-alpine"
    assert services["postgres"]["image"] == "postgres:16-alpine"


def test_redis_keeps_nothing_on_disk(services: dict[str, Any]) -> None:
    command = services["redis"]["command"]
    assert command[command.index("--save") + 1] == ""
    assert command[command.index("--appendonly") + 1] == "no"


# Variables a process reads outside its settings class: uvicorn's trusted proxies.
PROCESS_VARIABLES = {"orchestrator": {"FORWARDED_ALLOW_IPS"}}
ADMIN_SECRETS = {"ADMIN_TOKEN", "ENCRYPTION_KEY", "AUTH_SECRET", "BFF_DB_PASSWORD"}


@pytest.mark.parametrize("name", list(PYTHON_SERVICES))
def test_each_service_receives_exactly_what_its_settings_read(name: str, services: dict[str, Any]) -> None:
    """No env_file: a container gets the variables its settings declare, and nothing else."""
    import importlib

    svc = services[name]
    assert "env_file" not in svc, f"{name} would get every variable of .env"
    module = PYTHON_SERVICES[name][1]
    declared = {f.upper() for f in importlib.import_module(f"{module}.config").Settings.model_fields}
    given = set(svc["environment"])
    assert given == declared | PROCESS_VARIABLES.get(name, set()), name
    if name != "orchestrator":
        assert not (given & ADMIN_SECRETS), f"{name} holds {sorted(given & ADMIN_SECRETS)}"
    if name not in ("orchestrator", "tiendanube_service"):  # the app secret: OAuth and webhooks
        assert "TIENDANUBE_CLIENT_SECRET" not in given, name


def test_the_bff_uses_its_own_restricted_database_role(services: dict[str, Any]) -> None:
    assert services["bff"]["environment"]["POSTGRES_DSN"].startswith("${BFF_POSTGRES_DSN:?")
    assert services["orchestrator"]["environment"]["BFF_DB_PASSWORD"] == "${BFF_DB_PASSWORD-}"


def test_edge_and_databases_get_only_their_own_variables(services: dict[str, Any]) -> None:
    for name in ("nginx", "redis", "postgres"):
        assert "env_file" not in services[name], name
    assert set(services["nginx"]["environment"]) == {"API_BASE_URL", "APP_VERSION"}
    assert set(services["postgres"]["environment"]) == {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"}


def test_internal_service_urls_point_at_the_compose_services(services: dict[str, Any]) -> None:
    env = services["orchestrator"]["environment"]
    for var, svc in (
        ("AGENT_SERVICE_URL", "agent_service"),
        ("WHATSAPP_SERVICE_URL", "whatsapp_service"),
        ("TIENDANUBE_SERVICE_URL", "tiendanube_service"),
        ("BFF_URL", "bff"),
    ):
        port = PYTHON_SERVICES[svc][2]
        assert env[var] == f"${{{var}:-http://{svc}:{port}}}"
    # whatsapp_service and tiendanube_service never call the orchestrator: they get no URL of it.
    assert "ORCHESTRATOR_URL" not in services["whatsapp_service"]["environment"]
    for name in ("agent_service", "bff"):
        assert (
            services[name]["environment"]["ORCHESTRATOR_URL"]
            == "${ORCHESTRATOR_URL:-http://orchestrator:8010}"  # the internal listener
        )
