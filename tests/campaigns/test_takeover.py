"""A sender taking over a number from a dead one: what the dead one claimed but never handed to
whatsapp_service goes out at once (it cannot have been sent), what it handed over waits for the
grace period (its `sent` status may still come), and a claim a sender no longer holds is never
handed over."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

from orchestrator.campaigns.sender import _HAND
from orchestrator.db import create_engine

from tests.pipeline.conftest import APP_SECRET, Stack, eventually

from .conftest import auth, campaign, connect_templates, csv_of, get, import_csv, post


def phones(n: int) -> list[str]:
    return [f"+54 9 11 7{i:07d}" for i in range(n)]


@contextlib.asynccontextmanager
async def paused_campaign(
    factory: Callable[..., contextlib.AbstractAsyncContextManager[Stack]], n: int
) -> AsyncIterator[tuple[Stack, str]]:
    """A stack whose grace period (600 s) outlasts the test, and a campaign to `n` customers
    started and paused before anything was claimed for long."""
    async with factory(NEXUS_OUTBOX_GRACE_SECONDS="600") as stack:
        stack.graph.status_webhook = {"url": f"{stack.orch_url}/webhooks/whatsapp", "app_secret": APP_SECRET}
        await connect_templates(stack)
        rows = [(p, f"Cliente{i}", "es", "web_form", "takeover") for i, p in enumerate(phones(n))]
        assert (await import_csv(stack, csv_of(rows)))["imported"] == n
        r = await stack.client.put(
            f"{stack.orch_url}/api/v1/settings/sending", json={"messages_per_second": 1}, headers=auth(stack)
        )
        assert r.status_code == 200, r.text
        cid = await campaign(stack, audience={"filter": {"tags": ["takeover"]}})
        await post(stack, f"/campaigns/{cid}/start")
        await post(stack, f"/campaigns/{cid}/pause")

        def settled() -> bool:  # the sender let go of what it had claimed, and stopped
            return not stack.rows(
                "SELECT 1 FROM campaign_recipients WHERE campaign_id = %s AND state = 'sending'", cid
            )

        await eventually(settled, timeout=20)
        stack.graph.sent.clear()
        stack.graph.requests.clear()
        yield stack, cid


async def test_unhanded_claims_of_a_dead_sender_go_out_at_once_handed_ones_wait_for_grace(
    stack_factory: Callable[..., contextlib.AbstractAsyncContextManager[Stack]],
) -> None:
    async with paused_campaign(stack_factory, 12) as (stack, cid):
        # At 1 msg/s the paused campaign may have sent one or two before the pause took hold.
        before = {
            r[0]
            for r in stack.rows(
                "SELECT wa_id FROM campaign_recipients WHERE campaign_id = %s AND state = 'sent'", cid
            )
        }
        # What a sender killed mid-run leaves: 8 rows claimed, 3 of them handed over.
        claimed = sorted(
            r[0]
            for r in stack.rows(
                "UPDATE campaign_recipients SET state = 'sending', attempts = 1, "
                "claimed_at = now() - interval '2 seconds' WHERE id IN (SELECT id FROM campaign_recipients "
                "WHERE campaign_id = %s AND state = 'pending' ORDER BY wa_id LIMIT 8) RETURNING wa_id",
                cid,
            )
        )
        assert len(claimed) == 8
        handed = claimed[:3]
        stack.rows(
            "UPDATE campaign_recipients SET handed_at = claimed_at WHERE wa_id = ANY(%s) RETURNING 1", handed
        )
        r = await stack.client.put(
            f"{stack.orch_url}/api/v1/settings/sending", json={"messages_per_second": 80}, headers=auth(stack)
        )
        assert r.status_code == 200, r.text
        await post(stack, f"/campaigns/{cid}/resume")
        expected = {p.replace(" ", "")[1:] for p in phones(12)} - before - set(handed)

        async def all_but_handed_sent() -> bool:
            return (await get(stack, f"/campaigns/{cid}"))["counts"]["sent"] == 12 - len(handed)

        await eventually(all_but_handed_sent, timeout=30)
        sent = sorted(m["to"] for m in stack.graph.sent if m["type"] == "template")
        assert sent == sorted(expected)  # once each, the unhanded claims included
        # The handed-over rows may have gone out: they wait for their status or the grace period.
        left = stack.rows(
            "SELECT wa_id, state, attempts FROM campaign_recipients WHERE campaign_id = %s "
            "AND state <> 'sent' ORDER BY wa_id",
            cid,
        )
        assert left == [(w, "sending", 1) for w in handed]
        attempts = stack.rows(
            "SELECT wa_id, attempts FROM campaign_recipients WHERE wa_id = ANY(%s) ORDER BY wa_id",
            claimed[3:],
        )
        assert attempts == [(w, 1) for w in claimed[3:]]  # a requeued unhanded claim is no attempt


async def test_a_claim_is_handed_over_only_by_its_holder_and_only_once(
    stack_factory: Callable[..., contextlib.AbstractAsyncContextManager[Stack]],
) -> None:
    async with paused_campaign(stack_factory, 2) as (stack, cid):
        first = datetime(2026, 1, 1, tzinfo=UTC)
        second = first + timedelta(seconds=7)  # requeued by a sender that took over, and claimed again
        (rid,) = stack.rows(
            "UPDATE campaign_recipients SET state = 'sending', claimed_at = %s WHERE id = (SELECT id "
            "FROM campaign_recipients WHERE campaign_id = %s AND state = 'pending' LIMIT 1) RETURNING id",
            second,
            cid,
        )[0]
        engine = create_engine(stack.dsn, pool_size=1)
        try:

            async def hand(claim: datetime) -> list[object]:
                async with engine.begin() as conn:
                    return list((await conn.execute(_HAND, {"ids": [rid], "claims": [claim]})).scalars())

            assert await hand(first) == []  # the old holder's claim: not sent
            assert stack.rows("SELECT handed_at FROM campaign_recipients WHERE id = %s", rid) == [(None,)]
            assert await hand(second) == [rid]  # the current holder's
            assert await hand(second) == []  # and only once
        finally:
            await engine.dispose()
