"""Meta's answers → what the sender does with the recipient (EXTERNAL_APIS.md F5 retry table)."""

from __future__ import annotations

import uuid

import pytest
from orchestrator.campaigns.sender import Claimed, classify


def item(attempts: int = 1, pair_attempts: int = 0) -> Claimed:
    return Claimed(uuid.uuid4(), uuid.uuid4(), "5491150000000", [], attempts, pair_attempts)


def graph(code: int) -> dict[str, object]:
    return {"error": {"code": "graph_rejected", "message": "x", "details": {"graph_code": str(code)}}}


def test_accepted_message_is_sent() -> None:
    r = classify(200, {"provider_message_id": "wamid.X"}, item())
    assert (r.kind, r.pid) == ("sent", "wamid.X")


def test_pair_rate_retries_that_recipient_after_4_to_the_n_seconds() -> None:
    assert classify(422, graph(131056), item(pair_attempts=0)).delay == 4.0
    r = classify(422, graph(131056), item(pair_attempts=2))
    assert (r.kind, r.delay, r.pair) == ("retry", 64.0, 1)


def test_throughput_is_retried_with_backoff_then_given_up() -> None:
    r = classify(422, graph(130429), item(attempts=1))
    assert r.kind == "retry" and 0 < r.delay <= 1.0
    assert classify(422, graph(130429), item(attempts=8)).kind == "failed"


@pytest.mark.parametrize("code", [131026, 132000, 132001, 132015, 368])
def test_final_errors_fail_with_their_code(code: int) -> None:
    r = classify(422, graph(code), item())
    assert (r.kind, r.code) == ("failed", str(code))


def test_stopped_marketing_is_an_opt_out() -> None:
    assert classify(422, graph(131050), item()).kind == "opted_out"


def test_timeout_is_ambiguous_never_resent_blindly() -> None:
    assert classify(504, {"error": {"code": "graph_timeout"}}, item()).kind == "ambiguous"
    assert classify(503, {"error": {"code": "graph_unavailable"}}, item()).kind == "retry"
