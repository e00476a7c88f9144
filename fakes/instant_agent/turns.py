"""An instant stand-in for agent_service's `POST /v1/turns` (contract: nexus_common.contracts.agent).

It answers every turn at once with a plain acknowledgement in the customer's language (never
echoing their words) and never hands off: the message-pipeline tests and the ingest benchmark use
it so they measure the pipeline, not an LLM. The real agent is tested in tests/agent.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from fastapi import APIRouter
from nexus_common.contracts.agent import AgentTurnRequest, AgentTurnResponse, ReplyPart, ThinkingStep

router = APIRouter(prefix="/v1", tags=["turns"])

ACK = {
    "es": "¡Gracias por escribirnos! Recibimos tu mensaje y ya lo estamos viendo.",
    "pt": "Obrigado por escrever! Recebemos sua mensagem e já estamos vendo.",
    "en": "Thanks for writing! We got your message and are looking into it.",
}

_WORDS = {
    "pt": {
        "obrigado",
        "obrigada",
        "você",
        "voce",
        "não",
        "nao",
        "olá",
        "ola",
        "tem",
        "quero",
        "estoque",
        "qual",
        "preço",
        "oi",
        "bom",
        "dia",
        "meu",
        "pedido",
        "sim",
        "está",
        "vocês",
    },
    "es": {
        "hola",
        "gracias",
        "tienen",
        "quiero",
        "precio",
        "cuánto",
        "cuanto",
        "stock",
        "buenas",
        "mi",
        "pedido",
        "sí",
        "está",
        "ustedes",
        "envío",
        "qué",
        "tenés",
        "querría",
        "buen",
        "día",
    },
    "en": {
        "hello",
        "hi",
        "thanks",
        "thank",
        "you",
        "have",
        "want",
        "price",
        "how",
        "much",
        "my",
        "order",
        "the",
        "is",
        "do",
        "please",
        "what",
        "stock",
    },
}
_TOKEN = re.compile(r"[a-záéíóúâêôãõçñü]+")


def detect_language(texts: list[str], default: str) -> str:
    words = _TOKEN.findall(" ".join(texts).lower())
    scores = {lang: sum(w in vocab for w in words) for lang, vocab in _WORDS.items()}
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] > 0 else (default[:2] if default[:2] in ACK else "es")


def offline_answer(req: AgentTurnRequest) -> AgentTurnResponse:
    started = time.perf_counter()
    default = req.customer.locale or req.tenant.language
    lang = detect_language([m.text for m in req.new_messages], default)
    step = ThinkingStep(
        kind="fallback",
        name="offline_responder",
        detail={"language": lang, "messages": len(req.new_messages)},
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
        at=datetime.now(UTC),
    )
    return AgentTurnResponse(
        run_id=req.run_id,
        parts=[ReplyPart(type="text", text=ACK[lang])],
        provider="offline",
        fallback_used=True,
        language=lang,
        steps=[step],
    )


@router.post("/turns", response_model=AgentTurnResponse)
async def post_turn(req: AgentTurnRequest) -> AgentTurnResponse:
    """Answer one turn: the burst `new_messages` in the context of `history`. Returns reply
    parts, a handoff flag and the thinking-log steps. Requires `X-Internal-Token`."""
    return offline_answer(req)
