"""Opt-out / opt-in keywords: a whole message (any case, accents and punctuation ignored).

Such a message never reaches the AI; the customer gets a short confirmation in their language.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

Intent = Literal["opt_out", "opt_in"]

# keyword -> (intent, the language it hints at)
KEYWORDS: dict[str, tuple[Intent, str]] = {
    "baja": ("opt_out", "es"),
    "darme de baja": ("opt_out", "es"),
    "cancelar suscripcion": ("opt_out", "es"),
    "no quiero recibir mas": ("opt_out", "es"),
    "no quiero recibir mas mensajes": ("opt_out", "es"),
    "stop": ("opt_out", "en"),
    "unsubscribe": ("opt_out", "en"),
    "parar": ("opt_out", "pt"),
    "sair": ("opt_out", "pt"),
    "cancelar inscricao": ("opt_out", "pt"),
    "nao quero receber mais": ("opt_out", "pt"),
    "stop promotions": ("opt_out", "en"),
    "detener promociones": ("opt_out", "es"),
    "parar promocoes": ("opt_out", "pt"),
    "alta": ("opt_in", "es"),
    "volver": ("opt_in", "es"),
    "start": ("opt_in", "en"),
    "voltar": ("opt_in", "pt"),
}

CONFIRMATION: dict[Intent, dict[str, str]] = {
    "opt_out": {
        "es": "Listo, no vas a recibir más mensajes promocionales ni avisos nuestros. "
        "Si cambiás de idea, escribí ALTA.",
        "pt": "Pronto, você não vai mais receber mensagens promocionais nem avisos nossos. "
        "Se mudar de ideia, escreva VOLTAR.",
        "en": "Done, you will not get promotional messages or notifications from us anymore. "
        "If you change your mind, reply START.",
    },
    "opt_in": {
        "es": "¡Listo! Vas a volver a recibir nuestras novedades y avisos. Para darte de baja, escribí BAJA.",
        "pt": "Pronto! Você voltará a receber nossas novidades e avisos. Para sair, escreva SAIR.",
        "en": "Done! You will get our news and notifications again. To stop them, reply STOP.",
    },
}

_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)
_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    return _SPACES.sub(" ", _PUNCT.sub(" ", folded)).strip()


def match(text: str | None) -> tuple[Intent, str] | None:
    """The keyword's intent and language hint, when the whole message is one."""
    if not text or len(text) > 60:
        return None
    return KEYWORDS.get(normalize(text))


def confirmation(intent: Intent, language: str | None) -> str:
    texts = CONFIRMATION[intent]
    return texts.get((language or "es")[:2].lower(), texts["es"])
