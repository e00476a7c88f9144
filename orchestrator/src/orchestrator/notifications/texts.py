"""Free-text versions of the notifications (sent instead of the template inside the 24-hour
window), in the customer's language."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "order_paid": {
        "es": "¡Hola {name}! Recibimos el pago de tu pedido #{number} por {total}. ¡Gracias por tu compra!",
        "pt": "Olá {name}! Recebemos o pagamento do seu pedido #{number} de {total}. Obrigado pela compra!",
        "en": "Hi {name}! We received the payment for your order #{number} ({total}). Thank you!",
    },
    "order_packed": {
        "es": "¡Hola {name}! Tu pedido #{number} ya está preparado y sale pronto.",
        "pt": "Olá {name}! Seu pedido #{number} já está embalado e sai em breve.",
        "en": "Hi {name}! Your order #{number} is packed and will ship soon.",
    },
    "order_fulfilled": {
        "es": "¡Hola {name}! Tu pedido #{number} está en camino. {url}",
        "pt": "Olá {name}! Seu pedido #{number} está a caminho. {url}",
        "en": "Hi {name}! Your order #{number} is on its way. {url}",
    },
    "order_cancelled": {
        "es": "Hola {name}, tu pedido #{number} fue cancelado. Si tenés dudas, respondé este mensaje.",
        "pt": "Olá {name}, seu pedido #{number} foi cancelado. Se tiver dúvidas, responda esta mensagem.",
        "en": "Hi {name}, your order #{number} was cancelled. Reply to this message if you have questions.",
    },
    "cart_recovery": {
        "es": "¡Hola {name}! Guardamos tu carrito en {store}. Podés terminar tu compra acá: {url}",
        "pt": "Olá {name}! Guardamos seu carrinho na {store}. Você pode finalizar a compra aqui: {url}",
        "en": "Hi {name}! We saved your cart at {store}. You can finish your purchase here: {url}",
    },
}


def render(kind: str, language: str, **values: str) -> str:
    texts = TEXTS[kind]
    text = texts.get((language or "es")[:2].lower(), texts["es"])
    return text.format(**values).strip()


def first_name(full: str | None) -> str:
    return (full or "").strip().split(" ")[0][:60] if full and full.strip() else ""
