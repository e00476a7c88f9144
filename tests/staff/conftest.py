"""Staff-side fixtures: an in-process orchestrator, two tenants with a user per role, a real SMTP
server on loopback (aiosmtpd), seeded conversations."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import Message
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from cryptography.fernet import Fernet
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import REPO, TEST_REDIS_URL, create_database, drop_database, free_port

ROLES = ("owner", "admin", "agent", "viewer")
PASSWORD = "correct horse battery staple"
ADMIN_TOKEN = "test-admin-token-0123456789"
INTERNAL_TOKEN = "test-internal-token-0123456789"


class Inbox:
    """aiosmtpd handler: keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(
            (list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for rcpts, m in self.messages if address in rcpts]

    async def wait_for(self, address: str, n: int = 1, within: float = 20.0) -> list[Message]:
        for _ in range(int(within / 0.05)):
            if len(self.to(address)) >= n:
                return self.to(address)
            await asyncio.sleep(0.05)
        raise AssertionError(f"expected {n} e-mails to {address}, got {len(self.to(address))}")


@pytest.fixture(scope="session")
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def staff_env(smtp: tuple[Inbox, int]) -> Iterator[dict[str, str]]:
    """One database and one orchestrator for the staff tests; each test makes its own tenants."""
    name, dsn = create_database()
    env = {
        "NEXUS_ENV": "test",
        "POSTGRES_DSN": dsn,
        "REDIS_URL": TEST_REDIS_URL,
        "ADMIN_TOKEN": ADMIN_TOKEN,
        "INTERNAL_API_TOKEN": INTERNAL_TOKEN,
        "ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "NEXUS_MIGRATIONS_DIR": str(REPO / "migrations"),
        "LOG_LEVEL": "WARNING",
        "SMTP_URL": f"smtp://127.0.0.1:{smtp[1]}?starttls=0&timeout=5",
        "API_BASE_URL": "https://nexus.example",
        "MAIL_FROM": "Nexus <nexus@example.com>",
    }
    try:
        yield env
    finally:
        drop_database(name)


@pytest.fixture(scope="session")
async def app(staff_env: dict[str, str]) -> AsyncIterator[FastAPI]:
    # Settings passed in, not through os.environ: a session-wide app must not leak variables.
    from orchestrator.app import create_app
    from orchestrator.config import Settings

    application = create_app(Settings(**{k.lower(): v for k, v in staff_env.items()}))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    # Each test calls from its own address, so per-IP login limits of one test never touch another.
    ip = f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
    transport = httpx.ASGITransport(app=app, client=(ip, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://orch") as c:
        yield c


def maker(app: FastAPI) -> async_sessionmaker[AsyncSession]:
    return app.state.sessionmaker  # type: ignore[no-any-return]


@dataclass
class TenantSeed:
    id: uuid.UUID
    users: dict[str, uuid.UUID] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    conversation_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    channel_id: uuid.UUID | None = None


async def seed_tenant(app: FastAPI, name: str, *, passwords: bool = False) -> TenantSeed:
    from orchestrator.auth import service as auth_service
    from orchestrator.models import ChannelAccount, ChatConversation, ChatMessage, Customer, Tenant

    async with maker(app)() as s, s.begin():
        tenant = Tenant(
            name=name, settings={"language": "es", "handoff_emails": [f"team@{name.lower()}.example"]}
        )
        s.add(tenant)
        await s.flush()
        seed = TenantSeed(id=tenant.id)
        for role in ROLES:
            email = f"{role}-{uuid.uuid4().hex[:8]}@{name.lower()}.example"
            user = await auth_service.create_user(s, tenant.id, email, role, PASSWORD if passwords else None)
            seed.users[role] = user.id
            seed.emails[role] = email
        channel = ChannelAccount(tenant_id=tenant.id, channel="whatsapp", external_id=uuid.uuid4().hex[:15])
        customer = Customer(tenant_id=tenant.id, phone_number="+5491155554444", name="Ana Pérez")
        s.add_all([channel, customer])
        await s.flush()
        conv = ChatConversation(
            tenant_id=tenant.id, customer_id=customer.id, channel="whatsapp", channel_account_id=channel.id
        )
        s.add(conv)
        await s.flush()
        s.add_all(
            [
                ChatMessage(
                    tenant_id=tenant.id,
                    conversation_id=conv.id,
                    channel="whatsapp",
                    direction="inbound",
                    sender="customer",
                    text="Hola, ¿tienen zapatillas talle 40?",
                    status="received",
                    provider_message_id=f"wamid.{uuid.uuid4().hex}",
                    created_at=datetime.now(UTC) - timedelta(minutes=2),
                ),
                ChatMessage(
                    tenant_id=tenant.id,
                    conversation_id=conv.id,
                    channel="whatsapp",
                    direction="outbound",
                    sender="ai",
                    text="¡Hola Ana! Sí, tenemos las Runner 40.",
                    status="sent",
                    created_at=datetime.now(UTC) - timedelta(minutes=1),
                ),
            ]
        )
        seed.conversation_id, seed.customer_id, seed.channel_id = conv.id, customer.id, channel.id
    return seed


async def token_for(app: FastAPI, seed: TenantSeed, role: str) -> str:
    """A fresh session for the role's user (no password check: that is tested in test_auth)."""
    from orchestrator.auth import service as auth_service
    from orchestrator.models import User

    async with maker(app)() as s, s.begin():
        user = await s.get(User, seed.users[role])
        assert user is not None
        pair = await auth_service.create_session(s, app.state.settings, user)
    return pair.access_token


def bearer(token: str, tenant: uuid.UUID | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if tenant is not None:
        headers["X-Tenant-Id"] = str(tenant)
    return headers


@pytest.fixture
async def tenants(app: FastAPI) -> tuple[TenantSeed, TenantSeed]:
    return await seed_tenant(app, "Alfa"), await seed_tenant(app, "Beta")


def unique(name: str) -> str:
    return f"{name}{uuid.uuid4().hex[:6]}"
