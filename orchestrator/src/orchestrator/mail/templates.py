"""Staff e-mails in the tenant's language (es, pt, en): plain text and HTML parts."""
# ruff: noqa: E501 - message texts read better unwrapped

from __future__ import annotations

from html import escape
from typing import Any

from .client import Mail

TEXTS: dict[str, dict[str, Any]] = {
    "es": {
        "reset_subject": "Restablecer tu contraseña de Nexus",
        "reset_body": "Recibimos un pedido para restablecer tu contraseña. Abrí este enlace (vence en {hours} h):",
        "invite_subject": "Te invitaron a {tenant} en Nexus",
        "invite_body": "Te invitaron a atender las conversaciones de {tenant} en Nexus ({role}). Creá tu contraseña acá (vence en {hours} h):",
        "ignore": "Si no lo pediste, ignorá este mensaje.",
        "handoff_subject": "[{tenant}] Una conversación necesita a una persona",
        "handoff_body": "La IA pasó esta conversación a una persona. Motivo: {reason}.",
        "transcript_subject": "[{tenant}] Transcripción de la conversación",
        "transcript_body": "Transcripción de la conversación.",
        "customer": "Cliente",
        "open": "Abrir la conversación",
        "who": {"customer": "Cliente", "ai": "IA", "human": "Equipo", "system": "Sistema"},
    },
    "pt": {
        "reset_subject": "Redefinir sua senha do Nexus",
        "reset_body": "Recebemos um pedido para redefinir sua senha. Abra este link (expira em {hours} h):",
        "invite_subject": "Você foi convidado para {tenant} no Nexus",
        "invite_body": "Você foi convidado para atender as conversas de {tenant} no Nexus ({role}). Crie sua senha aqui (expira em {hours} h):",
        "ignore": "Se não foi você, ignore esta mensagem.",
        "handoff_subject": "[{tenant}] Uma conversa precisa de uma pessoa",
        "handoff_body": "A IA passou esta conversa para uma pessoa. Motivo: {reason}.",
        "transcript_subject": "[{tenant}] Transcrição da conversa",
        "transcript_body": "Transcrição da conversa.",
        "customer": "Cliente",
        "open": "Abrir a conversa",
        "who": {"customer": "Cliente", "ai": "IA", "human": "Equipe", "system": "Sistema"},
    },
    "en": {
        "reset_subject": "Reset your Nexus password",
        "reset_body": "We received a request to reset your password. Open this link (expires in {hours} h):",
        "invite_subject": "You are invited to {tenant} on Nexus",
        "invite_body": "You were invited to handle {tenant}'s conversations on Nexus ({role}). Set your password here (expires in {hours} h):",
        "ignore": "If you did not ask for this, ignore this message.",
        "handoff_subject": "[{tenant}] A conversation needs a person",
        "handoff_body": "The AI handed this conversation to a person. Reason: {reason}.",
        "transcript_subject": "[{tenant}] Conversation transcript",
        "transcript_body": "Conversation transcript.",
        "customer": "Customer",
        "open": "Open the conversation",
        "who": {"customer": "Customer", "ai": "AI", "human": "Staff", "system": "System"},
    },
}


def texts(language: str | None) -> dict[str, Any]:
    return TEXTS.get((language or "es")[:2].lower(), TEXTS["es"])


def _link_mail(to: str, subject: str, intro: str, link: str, footer: str) -> Mail:
    text = f"{intro}\n\n{link}\n\n{footer}\n"
    html = (
        f'<p>{escape(intro)}</p><p><a href="{escape(link, quote=True)}">{escape(link)}</a></p>'
        f'<p style="color:#666">{escape(footer)}</p>'
    )
    return Mail(to=[to], subject=subject, text=text, html=html)


def reset_mail(to: str, link: str, hours: int, language: str | None) -> Mail:
    t = texts(language)
    return _link_mail(
        to, str(t["reset_subject"]), str(t["reset_body"]).format(hours=hours), link, str(t["ignore"])
    )


def invite_mail(to: str, link: str, hours: int, tenant: str, role: str, language: str | None) -> Mail:
    t = texts(language)
    return _link_mail(
        to,
        str(t["invite_subject"]).format(tenant=tenant),
        str(t["invite_body"]).format(tenant=tenant, role=role, hours=hours),
        link,
        str(t["ignore"]),
    )


def transcript_mail(
    *,
    to: list[str],
    kind: str,
    tenant: str,
    customer: str,
    reason: str | None,
    link: str,
    lines: list[tuple[str, str, str]],
    language: str | None,
) -> Mail:
    """`lines`: (time, sender, text). The customer label carries a masked phone, never the full one."""
    t = texts(language)
    who: dict[str, str] = t["who"]
    if kind == "handoff":
        subject = str(t["handoff_subject"]).format(tenant=tenant)
        intro = str(t["handoff_body"]).format(reason=reason or "-")
    else:
        subject = str(t["transcript_subject"]).format(tenant=tenant)
        intro = str(t["transcript_body"])
    head = f"{t['customer']}: {customer}"
    body_lines = [f"[{at}] {who.get(sender, sender)}: {text}" for at, sender, text in lines]
    text = "\n".join([intro, head, "", *body_lines, "", f"{t['open']}: {link}", ""])
    rows = "".join(
        f'<tr><td style="color:#666;white-space:nowrap">{escape(at)}</td>'
        f"<td><b>{escape(who.get(sender, sender))}</b></td><td>{escape(msg)}</td></tr>"
        for at, sender, msg in lines
    )
    html = (
        f"<p>{escape(intro)}</p><p>{escape(head)}</p>"
        f'<table cellpadding="4">{rows}</table>'
        f'<p><a href="{escape(link, quote=True)}">{escape(str(t["open"]))}</a></p>'
    )
    return Mail(to=to, subject=subject, text=text, html=html)
