"""The offline responder: no model, just retrieval and order data in good es/pt/en templates.

It answers when every provider failed (or none is configured) and always flags the conversation
for a person: it greets, suggests products with their real price and link, reports an order's
status, or says that someone from the store will answer.
"""

from __future__ import annotations

import re
from typing import Any

from .guardrails import fold
from .tools import Toolbox

T: dict[str, dict[str, str]] = {
    "es": {
        "greeting": "¡Hola! Gracias por escribirnos 😊 ¿En qué te puedo ayudar?",
        "products_intro": "Esto es lo que encontré en la tienda:",
        "product_line": "• {name}: {price}{stock}\n  {url}",
        "low_stock": " (¡quedan {stock}!)",
        "no_products": "No encontré productos que coincidan con lo que buscás.",
        "order": "Tu pedido #{number} está {status}.",
        "order_payment": " Pago: {payment}.",
        "order_shipping": " Envío: {shipping}.",
        "order_tracking": " Seguimiento: {url}",
        "order_not_found": "No encontré un pedido #{number} asociado a tu cuenta. ¿Podés revisar el número?",
        "order_ask_number": "Para ver tu pedido necesito el número de orden (por ejemplo #1234).",
        "person": "Una persona de nuestro equipo te va a responder a la brevedad.",
        "person_now": "Entiendo. Ya le aviso a una persona de nuestro equipo para que siga la conversación.",
    },
    "pt": {
        "greeting": "Olá! Obrigado por nos escrever 😊 Como posso ajudar?",
        "products_intro": "Encontrei isto na loja:",
        "product_line": "• {name}: {price}{stock}\n  {url}",
        "low_stock": " (restam {stock}!)",
        "no_products": "Não encontrei produtos que correspondam ao que você procura.",
        "order": "Seu pedido #{number} está {status}.",
        "order_payment": " Pagamento: {payment}.",
        "order_shipping": " Entrega: {shipping}.",
        "order_tracking": " Rastreio: {url}",
        "order_not_found": "Não encontrei um pedido #{number} na sua conta. Pode conferir o número?",
        "order_ask_number": "Para ver seu pedido preciso do número (por exemplo #1234).",
        "person": "Uma pessoa da nossa equipe vai te responder em breve.",
        "person_now": "Entendo. Já avisei uma pessoa da nossa equipe para continuar a conversa.",
    },
    "en": {
        "greeting": "Hi! Thanks for writing to us 😊 How can I help?",
        "products_intro": "Here is what I found in the store:",
        "product_line": "• {name}: {price}{stock}\n  {url}",
        "low_stock": " (only {stock} left!)",
        "no_products": "I couldn't find products matching what you are looking for.",
        "order": "Your order #{number} is {status}.",
        "order_payment": " Payment: {payment}.",
        "order_shipping": " Shipping: {shipping}.",
        "order_tracking": " Tracking: {url}",
        "order_not_found": (
            "I couldn't find an order #{number} under your account. Could you check the number?"
        ),
        "order_ask_number": "To look up your order I need its number (for example #1234).",
        "person": "Someone from our team will reply shortly.",
        "person_now": "I understand. I've asked someone from our team to continue this conversation.",
    },
}

STATUS_WORDS: dict[str, dict[str, str]] = {
    "es": {
        "open": "abierto",
        "closed": "cerrado",
        "cancelled": "cancelado",
        "paid": "pagado",
        "pending": "pendiente",
        "shipped": "enviado",
        "unshipped": "sin enviar",
        "unpacked": "en preparación",
        "delivered": "entregado",
        "authorized": "autorizado",
        "refunded": "reembolsado",
        "voided": "anulado",
    },
    "pt": {
        "open": "aberto",
        "closed": "fechado",
        "cancelled": "cancelado",
        "paid": "pago",
        "pending": "pendente",
        "shipped": "enviado",
        "unshipped": "não enviado",
        "unpacked": "em preparação",
        "delivered": "entregue",
        "authorized": "autorizado",
        "refunded": "reembolsado",
        "voided": "anulado",
    },
    "en": {},
}

_GREETING = re.compile(
    r"^(hola|buenas|buen dia|buenos dias|buenas tardes|buenas noches|oi|ola|bom dia|boa tarde|"
    r"boa noite|hello|hi|hey)\b[\s!.,]*(?:que tal|como estas|tudo bem|como vai)?[\s!?.,]*$"
)
_ORDER = re.compile(r"\b(pedido|orden|compra|envio|encomenda|rastreio|entrega|order|tracking|seguimiento)\b")
_NUMBER = re.compile(r"#?\b(\d{3,10})\b")


def money(price: str | None, currency: str | None) -> str:
    if price is None:
        return ""
    symbol = {"BRL": "R$", "USD": "US$"}.get(currency or "", "$")
    return f"{symbol} {price}"


def status_word(lang: str, value: Any) -> str:
    return STATUS_WORDS.get(lang, {}).get(str(value), str(value))


async def respond(toolbox: Toolbox, text: str, lang: str, handoff_reason: str | None = None) -> str:
    t = T.get(lang, T["es"])
    if handoff_reason:
        return t["person_now"]
    folded = fold(text).strip()
    if _GREETING.match(folded):
        return f"{t['greeting']}\n{t['person']}"
    if _ORDER.search(folded):
        m = _NUMBER.search(text)
        if not m:
            return f"{t['order_ask_number']}\n{t['person']}"
        try:
            result = await toolbox.order_status(m.group(1))
        except Exception:  # noqa: BLE001 - orchestrator unreachable: a person will answer
            return t["person"]
        if result.get("found"):
            toolbox.results.append(result)
            o = result["order"]
            line = t["order"].format(
                number=o.get("number", m.group(1)), status=status_word(lang, o.get("status"))
            )
            if o.get("payment_status"):
                line += t["order_payment"].format(payment=status_word(lang, o["payment_status"]))
            if o.get("shipping_status"):
                line += t["order_shipping"].format(shipping=status_word(lang, o["shipping_status"]))
            url = o.get("shipping_tracking_url") or o.get("tracking_url")
            if url:
                line += t["order_tracking"].format(url=url)
            return f"{line}\n{t['person']}"
        return f"{t['order_not_found'].format(number=m.group(1))}\n{t['person']}"
    outcome = await toolbox.run("search_products", {"query": text[:300]})
    items = outcome.data.get("items", []) if outcome.ok and isinstance(outcome.data, dict) else []
    if not outcome.ok:
        return t["person"]
    if not items:
        return f"{t['no_products']}\n{t['person']}"
    lines = [t["products_intro"]]
    for it in items[:3]:
        stock = it.get("stock")
        low = t["low_stock"].format(stock=stock) if isinstance(stock, int) and 0 < stock <= 3 else ""
        price = it.get("promotional_price") or it.get("price")
        lines.append(
            t["product_line"]
            .format(
                name=it.get("name"),
                price=money(price, it.get("currency")),
                stock=low,
                url=it.get("url") or "",
            )
            .rstrip()
        )
    lines.append(t["person"])
    return "\n".join(lines)
