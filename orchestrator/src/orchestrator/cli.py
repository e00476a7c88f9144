"""`nexus` command line: migrations and key rotation (the same code the service runs)."""

from __future__ import annotations

import asyncio
import uuid

import typer
from nexus_common.crypto import DecryptionError
from nexus_common.logging import configure_logging
from nexus_common.settings import ConfigError, load_settings

from . import migrate
from .audit import service as audit
from .auth import service as auth_service
from .config import Settings
from .credentials import service as credentials
from .db import create_engine, create_sessionmaker

app = typer.Typer(help="Nexus operator commands.", no_args_is_help=True, add_completion=False)


def _settings() -> Settings:
    try:
        return load_settings(Settings)
    except ConfigError as exc:
        typer.echo(f"nexus: {exc}", err=True)
        raise typer.Exit(78) from None


@app.command("migrate")
def migrate_cmd(check: bool = typer.Option(False, help="Only report drift; change nothing.")) -> None:
    """Apply migrations (under the advisory lock) and report schema drift."""
    settings = _settings()
    configure_logging("WARNING", "nexus-cli")

    async def run() -> list[str]:
        engine = create_engine(settings.postgres_dsn.get_secret_value(), pool_size=1)
        try:
            if not check:
                await migrate.upgrade(engine, migrations_dir=settings.nexus_migrations_dir)
            return await migrate.schema_drift(engine)
        finally:
            await engine.dispose()

    drift = asyncio.run(run())
    if drift:
        typer.echo("schema drift: " + "; ".join(drift), err=True)
        raise typer.Exit(1)
    typer.echo("schema matches the models")


@app.command("rotate-keys")
def rotate_keys() -> None:
    """Re-encrypt every stored credential with the first key of ENCRYPTION_KEY.

    Rotation: prepend a new key (`NEW,OLD`), restart, run this, then drop OLD.
    """
    settings = _settings()
    configure_logging("WARNING", "nexus-cli")

    async def run() -> int:
        engine = create_engine(settings.postgres_dsn.get_secret_value(), pool_size=1)
        try:
            async with create_sessionmaker(engine)() as session, session.begin():
                n = await credentials.rotate_all(session, settings.crypto)
                await audit.record(
                    session, actor="cli", action="credentials.rotate_keys", payload={"rotated": n}
                )
                return n
        finally:
            await engine.dispose()

    try:
        n = asyncio.run(run())
    except DecryptionError as exc:
        typer.echo(f"nexus: ENCRYPTION_KEY: {exc}; nothing was changed", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"re-encrypted {n} credential(s) with the primary key")


@app.command("create-user")
def create_user_cmd(
    tenant_id: str = typer.Argument(..., help="The tenant's id"),
    email: str = typer.Argument(...),
    role: str = typer.Option("owner", help="owner, admin, agent or viewer"),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
) -> None:
    """Create a staff user with a password (same as POST /api/v1/tenants/{id}/users)."""
    if role not in ("owner", "admin", "agent", "viewer"):
        typer.echo("nexus: --role must be owner, admin, agent or viewer", err=True)
        raise typer.Exit(2)
    if len(password) < 10:
        typer.echo("nexus: the password needs at least 10 characters", err=True)
        raise typer.Exit(2)
    settings = _settings()
    configure_logging("WARNING", "nexus-cli")

    async def run() -> str:
        engine = create_engine(settings.postgres_dsn.get_secret_value(), pool_size=1)
        try:
            async with create_sessionmaker(engine)() as session, session.begin():
                user = await auth_service.create_user(session, uuid.UUID(tenant_id), email, role, password)
                await audit.record(
                    session,
                    actor="cli",
                    action="user.created",
                    tenant_id=user.tenant_id,
                    target_id=str(user.id),
                )
                return str(user.id)
        finally:
            await engine.dispose()

    typer.echo(asyncio.run(run()))


if __name__ == "__main__":  # pragma: no cover
    app()
