"""Model constraints, checked against the migrated schema in real Postgres."""

from __future__ import annotations

import uuid

import pytest
from orchestrator.models import ChannelIdentity, ChatConversation, ChatMessage, Customer, Product, Tenant
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker


@pytest.fixture
async def session(migrated_engine: AsyncEngine):  # type: ignore[no-untyped-def]
    async with async_sessionmaker(migrated_engine, expire_on_commit=False)() as s:
        yield s


async def _tenant(s: AsyncSession) -> Tenant:
    t = Tenant(name="Tienda Demo")
    s.add(t)
    await s.flush()
    return t


async def test_customer_without_phone_is_allowed(session: AsyncSession) -> None:
    t = await _tenant(session)
    c = Customer(tenant_id=t.id, name="IG only")
    session.add(c)
    await session.flush()
    session.add(ChannelIdentity(tenant_id=t.id, customer_id=c.id, channel="instagram", external_id="1789"))
    await session.commit()
    assert (await session.get(Customer, c.id)).phone_number is None  # type: ignore[union-attr]


async def test_duplicate_identity_is_rejected(session: AsyncSession) -> None:
    t = await _tenant(session)
    a, b = Customer(tenant_id=t.id), Customer(tenant_id=t.id)
    session.add_all([a, b])
    await session.flush()
    session.add(
        ChannelIdentity(tenant_id=t.id, customer_id=a.id, channel="whatsapp", external_id="5491122334455")
    )
    await session.flush()
    session.add(
        ChannelIdentity(tenant_id=t.id, customer_id=b.id, channel="whatsapp", external_id="5491122334455")
    )
    with pytest.raises(IntegrityError, match="uq_channel_identities_tenant_id_channel_external_id"):
        await session.flush()
    await session.rollback()


async def test_same_identity_in_another_tenant_is_a_different_customer(session: AsyncSession) -> None:
    t1, t2 = await _tenant(session), await _tenant(session)
    for t in (t1, t2):
        c = Customer(tenant_id=t.id)
        session.add(c)
        await session.flush()
        session.add(
            ChannelIdentity(tenant_id=t.id, customer_id=c.id, channel="whatsapp", external_id="55119")
        )
    await session.commit()


async def test_conversation_without_customer_is_rejected(session: AsyncSession) -> None:
    t = await _tenant(session)
    session.add(ChatConversation(tenant_id=t.id, channel="whatsapp"))
    with pytest.raises(IntegrityError, match="customer_id"):
        await session.flush()
    await session.rollback()


async def test_conversation_with_unknown_customer_is_rejected(session: AsyncSession) -> None:
    t = await _tenant(session)
    session.add(ChatConversation(tenant_id=t.id, customer_id=uuid.uuid4(), channel="whatsapp"))
    with pytest.raises(IntegrityError, match="fk_chat_conversations_customer_id_customers"):
        await session.flush()
    await session.rollback()


async def test_provider_message_id_is_unique_per_channel(session: AsyncSession) -> None:
    t = await _tenant(session)
    c = Customer(tenant_id=t.id, phone_number="+5491122334455")
    session.add(c)
    await session.flush()
    conv = ChatConversation(tenant_id=t.id, customer_id=c.id, channel="whatsapp")
    session.add(conv)
    await session.flush()

    def msg(channel: str) -> ChatMessage:
        return ChatMessage(
            tenant_id=t.id,
            conversation_id=conv.id,
            channel=channel,
            direction="inbound",
            sender="customer",
            provider_message_id="wamid.HBgN",
            status="received",
            text="hola",
        )

    session.add(msg("whatsapp"))
    await session.flush()
    session.add(msg("instagram"))  # the same id on another channel is another message
    await session.flush()
    session.add(msg("whatsapp"))
    with pytest.raises(IntegrityError, match="uq_chat_messages_channel_provider_message_id"):
        await session.flush()
    await session.rollback()


async def test_invalid_status_is_rejected(session: AsyncSession) -> None:
    t = await _tenant(session)
    c = Customer(tenant_id=t.id)
    session.add(c)
    await session.flush()
    session.add(ChatConversation(tenant_id=t.id, customer_id=c.id, channel="whatsapp", status="closed"))
    with pytest.raises(IntegrityError, match="ck_chat_conversations_status"):
        await session.flush()
    await session.rollback()


async def test_one_live_conversation_per_customer_and_channel(session: AsyncSession) -> None:
    t = await _tenant(session)
    c = Customer(tenant_id=t.id)
    session.add(c)
    await session.flush()
    session.add(ChatConversation(tenant_id=t.id, customer_id=c.id, channel="whatsapp", status="resolved"))
    session.add(ChatConversation(tenant_id=t.id, customer_id=c.id, channel="whatsapp"))
    await session.flush()
    session.add(ChatConversation(tenant_id=t.id, customer_id=c.id, channel="whatsapp"))
    with pytest.raises(IntegrityError, match="uq_chat_conversations_live"):
        await session.flush()
    await session.rollback()


async def test_product_full_text_is_accent_insensitive_spanish_and_portuguese(session: AsyncSession) -> None:
    t = await _tenant(session)
    session.add_all(
        [
            Product(
                tenant_id=t.id, external_id=1, name_text="Camiseta de algodón", search_text="Remeras verano"
            ),
            Product(
                tenant_id=t.id, external_id=2, name_text="Tênis de corrida", search_text="Calçados esportivos"
            ),
            Product(tenant_id=t.id, external_id=3, name_text="Pileta inflable", search_text="Jardín"),
        ]
    )
    await session.flush()

    async def search(q: str, config: str) -> list[int]:
        rows = await session.scalars(
            select(Product.external_id)
            .where(Product.tenant_id == t.id)
            .where(
                Product.search_vector.op("@@")(
                    func.websearch_to_tsquery(text(f"'{config}'::regconfig"), func.nexus_unaccent(q))
                )
            )
            .order_by(Product.external_id)
        )
        return list(rows)

    assert await search("algodon", "spanish") == [1]  # no accent typed, accented stored
    assert await search("camisetas", "spanish") == [1]  # stemmed plural
    assert await search("tenis", "portuguese") == [2]
    assert await search("calcado", "portuguese") == [2]
    assert await search("jardin", "spanish") == [3]
    await session.rollback()
