"""Opt-out / opt-in keywords through the real pipeline (fake Graph, whatsapp_service, instant agent)."""

from __future__ import annotations

import pytest

from fakes.meta_graph import wa_message

from ..pipeline.conftest import PHONE_NUMBER_ID, Stack, eventually

WA = "5491123456789"


def _sent_texts(stack: Stack) -> list[str]:
    return [m["body"].get("text", {}).get("body", "") for m in stack.sent_to(WA)]


@pytest.mark.parametrize(
    ("keyword", "expected"),
    [("BAJA", "no vas a recibir"), ("  stop! ", "you will not get"), ("Sair", "você não vai")],
)
async def test_opt_out_keyword_is_confirmed_recorded_and_never_reaches_the_ai(
    stack: Stack, keyword: str, expected: str
) -> None:
    assert (await stack.post_whatsapp(wa_message(PHONE_NUMBER_ID, WA, text=keyword))).status_code == 200
    await eventually(lambda: len(stack.sent_to(WA)) == 1)
    assert expected in _sent_texts(stack)[0]
    assert stack.rows("SELECT count(*) FROM agent_runs") == [(0,)]  # the AI never saw it
    [(state, source)] = stack.rows("SELECT state, source FROM customer_consents")
    assert (state, source) == ("opted_out", "whatsapp")
    [(msg_type,)] = stack.rows("SELECT type FROM chat_messages WHERE direction='inbound'")
    assert msg_type == "consent"
    [(ev_state, ev_msg)] = stack.rows("SELECT state, message_id IS NOT NULL FROM consent_events")
    assert (ev_state, ev_msg) == ("opted_out", True)


async def test_opt_in_after_opt_out_and_a_normal_question_still_gets_the_ai(stack: Stack) -> None:
    await stack.post_whatsapp(wa_message(PHONE_NUMBER_ID, WA, text="BAJA"))
    await eventually(lambda: len(stack.sent_to(WA)) == 1)
    await stack.post_whatsapp(wa_message(PHONE_NUMBER_ID, WA, text="Alta"))
    await eventually(lambda: len(stack.sent_to(WA)) == 2)
    assert "Vas a volver a recibir" in _sent_texts(stack)[1]
    assert stack.rows("SELECT state FROM customer_consents") == [("opted_in",)]
    assert [r[0] for r in stack.rows("SELECT state FROM consent_events ORDER BY created_at")] == [
        "opted_out",
        "opted_in",
    ]
    # A keyword inside a sentence is an ordinary message: the AI answers it, without the keywords
    # in its history.
    await stack.post_whatsapp(wa_message(PHONE_NUMBER_ID, WA, text="hola, quiero dar de baja mi pedido?"))
    await eventually(lambda: len(stack.sent_to(WA)) == 3)
    assert stack.rows("SELECT count(*) FROM agent_runs") == [(1,)]
