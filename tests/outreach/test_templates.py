"""Template status/category webhooks keep the stored templates fresh."""

from __future__ import annotations

from fakes.meta_graph.templates import category_webhook, status_webhook, template

from ..pipeline.conftest import eventually
from .conftest import TEMPLATES, WABA_ID, World


def stored(world: World) -> dict[tuple[str, str], tuple[str, str]]:
    rows = world.stack.rows("SELECT name, language, status, category FROM whatsapp_templates")
    return {(n, lang): (st, cat) for n, lang, st, cat in rows}


async def test_status_and_category_webhooks_update_templates_and_unknown_ones_trigger_a_sync(
    world: World,
) -> None:
    paid = TEMPLATES[0]
    listed = world.stack.graph.templates[WABA_ID][0]  # what Meta lists from now on
    listed.update(status="PAUSED", category="MARKETING")
    assert (await world.stack.post_whatsapp(status_webhook(WABA_ID, paid, "PAUSED"))).status_code == 200
    await eventually(lambda: stored(world)[("pedido_pagado", "es_AR")] == ("PAUSED", "UTILITY"))
    r = await world.stack.post_whatsapp(category_webhook(WABA_ID, paid, "UTILITY", "MARKETING"))
    assert r.status_code == 200
    await eventually(lambda: stored(world)[("pedido_pagado", "es_AR")] == ("PAUSED", "MARKETING"))
    # A template created in Meta's manager after the last sync: its webhook makes Nexus re-read.
    new = template("nuevo_aviso", "pt_BR")
    world.stack.graph.templates[WABA_ID].append(new)
    assert (await world.stack.post_whatsapp(status_webhook(WABA_ID, new, "APPROVED"))).status_code == 200
    await eventually(lambda: stored(world).get(("nuevo_aviso", "pt_BR")) == ("APPROVED", "UTILITY"))
    # A paused template is not used: the order update is skipped rather than refused by Meta.
    r = await world.api(
        "PUT", "/api/v1/settings/notifications", json={"order_paid": {"template": "pedido_pagado"}}
    )
    assert r.status_code == 200
    assert await world.order_webhook("order/paid", world.add_order()) == 200
    await eventually(lambda: world.stack.rows("SELECT reason FROM proactive_messages") == [("no_template",)])


async def test_template_webhook_for_an_unknown_waba_or_bad_signature_is_401(world: World) -> None:
    r = await world.stack.post_whatsapp(status_webhook("999999", TEMPLATES[0], "PAUSED"))
    assert r.status_code == 401
    r = await world.stack.post_whatsapp(
        status_webhook(WABA_ID, TEMPLATES[0], "PAUSED"), secret="wrong-secret"
    )
    assert r.status_code == 401
    assert stored(world)[("pedido_pagado", "es_AR")] == ("APPROVED", "UTILITY")
