"""The offline responder: no model, just retrieval, the cart and order data in es/pt/en templates.

It answers when every provider failed or none is configured, and it keeps the conversation going:
it greets, offers the products it found (on WhatsApp as a list message: choosing one, then its
variant, adds it to the cart), shows the cart, gives the checkout link on "comprar" / "finalizar
compra" / "checkout", and reports an order's status. It hands off to a person only when the
customer asks for one (the runner's guard) or when it could not help twice in a row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from nexus_common.contracts.agent import ListRow, ReplyPart

from .guardrails import fold
from .tools import Toolbox

T: dict[str, dict[str, str]] = {
    "es": {
        "choose": "Elegí uno para agregarlo al carrito 👇",
        "choose_button": "Ver productos",
        "choose_variant": "¿Qué opción de {product} querés?",
        "variant_button": "Ver opciones",
        "added": (
            "Agregué {product} al carrito. Subtotal: {subtotal}. Escribí *comprar* para recibir el "
            "link de pago, o seguí mirando."
        ),
        "out_of_stock": "Perdón, {product} no tiene stock en este momento.",
        "cart_empty": "Tu carrito está vacío. Contame qué estás buscando 😊",
        "cart": "Tu carrito:",
        "cart_line": "• {qty} × {name}: {price}",
        "cart_total": "Subtotal: {subtotal}. Escribí *comprar* para finalizar.",
        "contact": (
            "Para armar tu pedido necesito tu nombre, apellido y e-mail (por ejemplo: Ana Pérez "
            "ana@mail.com)."
        ),
        "refused": "No puedo generar el pedido todavía:",
        "refused_line": "• {name}: {reason}",
        "unavailable": "No pude generar el link de pago en este momento. Probá de nuevo en unos minutos.",
        "not_understood": (
            "No estoy seguro de haberte entendido. Podés preguntarme por productos, precios o el "
            "estado de tu pedido."
        ),
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
        "reasons": (
            "deleted=ya no está a la venta|unpublished=no está publicado|out_of_stock=sin "
            "stock|insufficient_stock=quedan menos unidades|no_price=sin precio"
        ),
        "person_now": "Entiendo. Ya le aviso a una persona de nuestro equipo para que siga la conversación.",
    },
    "pt": {
        "choose": "Escolha um para adicionar ao carrinho 👇",
        "choose_button": "Ver produtos",
        "choose_variant": "Qual opção de {product} você quer?",
        "variant_button": "Ver opções",
        "added": (
            "Adicionei {product} ao carrinho. Subtotal: {subtotal}. Escreva *finalizar compra* para "
            "receber o link de pagamento, ou continue olhando."
        ),
        "out_of_stock": "Desculpe, {product} está sem estoque no momento.",
        "cart_empty": "Seu carrinho está vazio. Me conta o que você procura 😊",
        "cart": "Seu carrinho:",
        "cart_line": "• {qty} × {name}: {price}",
        "cart_total": "Subtotal: {subtotal}. Escreva *finalizar compra* para concluir.",
        "contact": (
            "Para montar seu pedido preciso do seu nome, sobrenome e e-mail (por exemplo: Ana Souza "
            "ana@mail.com)."
        ),
        "refused": "Ainda não consigo gerar o pedido:",
        "refused_line": "• {name}: {reason}",
        "unavailable": "Não consegui gerar o link de pagamento agora. Tente de novo em alguns minutos.",
        "not_understood": (
            "Não tenho certeza de ter entendido. Pode me perguntar sobre produtos, preços ou o "
            "status do seu pedido."
        ),
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
        "reasons": (
            "deleted=não está mais à venda|unpublished=não está publicado|out_of_stock=sem "
            "estoque|insufficient_stock=restam menos unidades|no_price=sem preço"
        ),
        "person_now": "Entendo. Já avisei uma pessoa da nossa equipe para continuar a conversa.",
    },
    "en": {
        "choose": "Pick one to add it to your cart 👇",
        "choose_button": "See products",
        "choose_variant": "Which option of {product} would you like?",
        "variant_button": "See options",
        "added": (
            "I added {product} to your cart. Subtotal: {subtotal}. Write *checkout* to get the "
            "payment link, or keep browsing."
        ),
        "out_of_stock": "Sorry, {product} is out of stock right now.",
        "cart_empty": "Your cart is empty. Tell me what you are looking for 😊",
        "cart": "Your cart:",
        "cart_line": "• {qty} × {name}: {price}",
        "cart_total": "Subtotal: {subtotal}. Write *checkout* to finish.",
        "contact": (
            "To prepare your order I need your first name, last name and e-mail (for example: Ann "
            "Smith ann@mail.com)."
        ),
        "refused": "I can't create the order yet:",
        "refused_line": "• {name}: {reason}",
        "unavailable": "I couldn't create the payment link right now. Please try again in a few minutes.",
        "not_understood": (
            "I'm not sure I understood. You can ask me about products, prices or your order's status."
        ),
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
        "reasons": (
            "deleted=no longer for sale|unpublished=not published|out_of_stock=out of "
            "stock|insufficient_stock=fewer units left|no_price=no price"
        ),
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


_CHECKOUT = re.compile(
    r"^(?:quiero |quero |i want to |lets |let's )?"
    r"(comprar|finalizar(?: (?:la |a )?compra)?|checkout|check out|pagar|buy|buy now|finalizar pedido|"
    r"fechar pedido)[\s!.]*$"
)
_CART = re.compile(r"\b(carrito|carrinho|cart|mi pedido actual)\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


@dataclass
class OfflineReply:
    parts: list[ReplyPart] = field(default_factory=list)
    handoff: str | None = None
    unhelped: bool = False

    def say(self, text: str) -> OfflineReply:
        self.parts.append(ReplyPart(type="text", text=text[:4096]))
        return self


def _reason(t: dict[str, str], code: str) -> str:
    table = dict(x.split("=", 1) for x in t["reasons"].split("|"))
    return table.get(code, code)


async def respond(
    toolbox: Toolbox, text: str, lang: str, handoff_reason: str | None = None, *, reply_id: str | None = None
) -> OfflineReply:
    t = T.get(lang, T["es"])
    if handoff_reason:
        return OfflineReply(handoff=handoff_reason).say(t["person_now"])
    reply = await _answer(toolbox, t, lang, text, reply_id)
    if reply.unhelped and toolbox.request.unhelped_turns >= 1:
        # The second turn in a row it could not help with: a person takes over.
        reply.handoff = "the offline assistant could not help twice in a row"
        reply.say(t["person"])
    return reply


async def _answer(
    toolbox: Toolbox, t: dict[str, str], lang: str, text: str, reply_id: str | None
) -> OfflineReply:
    reply = OfflineReply()
    folded = fold(text).strip()
    if reply_id and reply_id.startswith(("p:", "v:")):
        return await _choose(toolbox, t, reply_id)
    if _CHECKOUT.match(folded) or "finalizar compra" in folded or _EMAIL.search(text):
        return await _checkout(toolbox, t, text)
    if _GREETING.match(folded):
        return reply.say(t["greeting"])
    if _CART.search(folded):
        return await _show_cart(toolbox, t)
    if _ORDER.search(folded):
        m = _NUMBER.search(text)
        if not m:
            return reply.say(t["order_ask_number"])
        try:
            result = await toolbox.order_status(m.group(1))
        except Exception:  # noqa: BLE001 - orchestrator unreachable: counts as not helped
            reply.unhelped = True
            return reply.say(t["not_understood"])
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
            return reply.say(line)
        reply.unhelped = True
        return reply.say(t["order_not_found"].format(number=m.group(1)))
    outcome = await toolbox.run("search_products", {"query": text[:300]})
    items = outcome.data.get("items", []) if outcome.ok and isinstance(outcome.data, dict) else []
    if not items:
        reply.unhelped = True
        return reply.say(t["no_products"] if outcome.ok else t["not_understood"])
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
    reply.say("\n".join(lines))
    rows = [
        ListRow(
            id=f"p:{it['id']}",
            title=_clip(str(it.get("name") or ""), 24),
            description=_clip(money(it.get("promotional_price") or it.get("price"), it.get("currency")), 72)
            or None,
        )
        for it in items[:10]
        if it.get("id") and it.get("in_stock", True)
    ]
    if rows and toolbox.request.channel in ("whatsapp", "playground"):
        reply.parts.append(
            ReplyPart(type="list", text=t["choose"], list_button=t["choose_button"], rows=rows)
        )
    return reply


def _clip(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1].rstrip() + "…"


async def _choose(toolbox: Toolbox, t: dict[str, str], reply_id: str) -> OfflineReply:
    """A row of our list was chosen: `p:<product>` or `v:<product>:<variant>`."""
    reply = OfflineReply()
    parts = reply_id.split(":")
    args: dict[str, Any] = {"product_id": parts[1] if len(parts) > 1 else ""}
    if parts[0] == "v" and len(parts) == 3 and parts[2].isdigit():
        args["variant_id"] = int(parts[2])
    outcome = await toolbox.run("add_to_cart", args)
    data = outcome.data if isinstance(outcome.data, dict) else {}
    status = data.get("status")
    if status == "added":
        cart = data.get("cart") or {}
        added = next(
            (line for line in cart.get("items", []) if str(line.get("product_id")) == args["product_id"]), {}
        )
        name = added.get("name") or ""
        if added.get("variant"):
            name = f"{name} ({added['variant']})"
        subtotal = money(cart.get("subtotal"), cart.get("currency"))
        return reply.say(t["added"].format(product=name, subtotal=subtotal))
    if status == "choose_variant":
        rows = [
            ListRow(
                id=f"v:{args['product_id']}:{o['variant_id']}",
                title=_clip(o.get("label") or str(o["variant_id"]), 24),
                description=_clip(money(o.get("price"), None), 72) or None,
            )
            for o in data.get("options", [])[:10]
        ]
        question = t["choose_variant"].format(product=data.get("product", ""))
        if toolbox.request.channel in ("whatsapp", "playground"):
            reply.parts.append(
                ReplyPart(type="list", text=question, list_button=t["variant_button"], rows=rows)
            )
            return reply
        return reply.say("\n".join([question, *(f"• {r.title}" for r in rows)]))
    if status == "out_of_stock":
        return reply.say(t["out_of_stock"].format(product=data.get("product", "")))
    reply.unhelped = True
    return reply.say(t["not_understood"])


async def _show_cart(toolbox: Toolbox, t: dict[str, str]) -> OfflineReply:
    reply = OfflineReply()
    outcome = await toolbox.run("view_cart", {})
    cart = outcome.data if outcome.ok and isinstance(outcome.data, dict) else None
    if cart is None:
        reply.unhelped = True
        return reply.say(t["not_understood"])
    if not cart.get("items"):
        return reply.say(t["cart_empty"])
    cur = cart.get("currency")
    lines = [t["cart"]]
    for line in cart["items"]:
        name = line.get("name") or str(line.get("variant_id"))
        if line.get("variant"):
            name = f"{name} ({line['variant']})"
        lines.append(
            t["cart_line"].format(qty=line.get("quantity"), name=name, price=money(line.get("price"), cur))
        )
    lines.append(t["cart_total"].format(subtotal=money(cart.get("subtotal"), cur)))
    return reply.say("\n".join(lines))


def _contact_from(text: str) -> dict[str, str]:
    m = _EMAIL.search(text)
    if not m:
        return {}
    words = [w for w in re.split(r"[\s,;:]+", _EMAIL.sub(" ", text)) if w.isalpha()]
    out = {"email": m.group(0)}
    if len(words) >= 2:
        out.update(name=" ".join(words[:-1])[:100], lastname=words[-1][:100])
    return out


async def _checkout(toolbox: Toolbox, t: dict[str, str], text: str) -> OfflineReply:
    reply = OfflineReply()
    outcome = await toolbox.run("create_checkout", _contact_from(text))
    data = outcome.data if isinstance(outcome.data, dict) else {}
    status = data.get("status")
    if status == "created" and toolbox.checkout_message:
        msg = toolbox.checkout_message
        cta = msg.get("cta_url") or {}
        reply.parts.append(
            ReplyPart(
                type="cta_url", text=msg.get("text"), url=cta.get("url"), display_text=cta.get("display_text")
            )
        )
        return reply
    if status == "cart_empty":
        return reply.say(t["cart_empty"])
    if status == "contact_missing":
        return reply.say(t["contact"])
    if status == "refused":
        lines = [t["refused"]]
        for line in data.get("lines", []):
            lines.append(
                t["refused_line"].format(
                    name=line.get("name") or line.get("variant_id"),
                    reason=_reason(t, str(line.get("reason"))),
                )
            )
        return reply.say("\n".join(lines))
    reply.unhelped = True
    return reply.say(t["unavailable"])
