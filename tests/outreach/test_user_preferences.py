"""WhatsApp's `user_preferences` webhook (the user stops or resumes the business's marketing
messages in WhatsApp itself) through the real pipeline: recorded like a keyword, never answered."""

from __future__ import annotations

import time

from fakes.meta_graph import wa_message, wa_user_preferences

from ..pipeline.conftest import PHONE_NUMBER_ID, Stack, eventually

WA = "5491123456789"


def _done(stack: Stack) -> int:
    return int(
        stack.rows("SELECT count(*) FROM inbound_events WHERE source = 'whatsapp' AND state = 'done'")[0][0]
    )


async def test_stop_and_resume_are_recorded_as_consent_in_order_and_once(stack: Stack) -> None:
    t0 = int(time.time()) - 60
    stop = wa_user_preferences(PHONE_NUMBER_ID, WA, "stop", name="Ana", timestamp=t0)
    assert (await stack.post_whatsapp(stop)).status_code == 200
    await eventually(
        lambda: stack.rows("SELECT state, source FROM customer_consents") == [("opted_out", "meta")]
    )
    [(phone, name)] = stack.rows("SELECT phone_number, name FROM customers")
    assert (phone, name) == ("+" + WA, "Ana")
    assert (await stack.post_whatsapp(stop)).status_code == 200  # Meta redelivers: nothing new

    resume = wa_user_preferences(PHONE_NUMBER_ID, WA, "resume", timestamp=t0 + 10)
    assert (await stack.post_whatsapp(resume)).status_code == 200
    await eventually(lambda: stack.rows("SELECT state FROM customer_consents") == [("opted_in",)])
    # A stop older than the resume, delivered late, does not undo it.
    late = wa_user_preferences(PHONE_NUMBER_ID, WA, "stop", timestamp=t0 + 5)
    assert (await stack.post_whatsapp(late)).status_code == 200
    await eventually(lambda: _done(stack) == 3)
    assert stack.rows("SELECT state FROM customer_consents") == [("opted_in",)]
    assert stack.rows("SELECT state, source, actor FROM consent_events ORDER BY created_at") == [
        ("opted_out", "meta", "whatsapp:user_preferences"),
        ("opted_in", "meta", "whatsapp:user_preferences"),
    ]
    assert stack.sent_to(WA) == []  # Meta told the user already: no confirmation from us
    assert stack.rows("SELECT count(*) FROM chat_messages") == [(0,)]


async def test_a_stop_for_a_customer_who_wrote_before_lands_on_the_same_customer(stack: Stack) -> None:
    assert (await stack.post_whatsapp(wa_message(PHONE_NUMBER_ID, WA, text="hola"))).status_code == 200
    await eventually(lambda: len(stack.sent_to(WA)) == 1)  # the AI answered
    await stack.post_whatsapp(wa_user_preferences(PHONE_NUMBER_ID, WA, "stop"))
    await eventually(lambda: stack.rows("SELECT state FROM customer_consents") == [("opted_out",)])
    assert stack.rows("SELECT count(*) FROM customers") == [(1,)]


async def test_other_categories_and_values_are_accepted_and_ignored(stack: Stack) -> None:
    body = wa_user_preferences(PHONE_NUMBER_ID, WA, "stop", category="service_messages")
    assert (await stack.post_whatsapp(body)).status_code == 200
    odd = wa_user_preferences(PHONE_NUMBER_ID, WA, "pause")
    assert (await stack.post_whatsapp(odd)).status_code == 200
    assert stack.rows("SELECT state FROM inbound_events ORDER BY received_at") == [("ignored",), ("ignored",)]
    assert stack.rows("SELECT count(*) FROM customer_consents") == [(0,)]
