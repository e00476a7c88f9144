"""The agent's tools, executed against the orchestrator's internal API.

The model chooses tools and arguments; identity never comes from the model: the tenant and the
customer are those of the turn request, so `get_order_status` can only ever see the writing
customer's orders.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from nexus_common.contracts.agent import STORE_TOPICS, AgentTurnRequest

TOOL_SPECS: list[dict[str, Any]] = [
    {
        "name": "search_products",
        "description": "Search the store's catalog. Returns products with current price, stock and link.",
        "parameters": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "What the customer is looking for"},
                "include_out_of_stock": {"type": "boolean", "default": False},
            },
            "required": ["query"],
        },
    },
    {
        "name": "get_product",
        "description": "Details of one product by the id a search returned (variants, price, stock, link).",
        "parameters": {
            "type": "object",
            "properties": {"product_id": {"type": "string"}},
            "required": ["product_id"],
        },
    },
    {
        "name": "get_order_status",
        "description": "Status of one of THIS customer's orders, by order number.",
        "parameters": {
            "type": "object",
            "properties": {"order_number": {"type": "string"}},
            "required": ["order_number"],
        },
    },
    {
        "name": "store_info",
        "description": "Store policies: shipping, payment methods, returns, opening hours, contact.",
        "parameters": {
            "type": "object",
            "properties": {
                "topic": {
                    "type": "string",
                    "enum": ["shipping", "payments", "returns", "hours", "contact", "all"],
                }
            },
            "required": ["topic"],
        },
    },
    {
        "name": "add_to_cart",
        "description": (
            "Add a product from a search result to the customer's cart. If the product has several "
            "variants (size, colour...) pass the customer's words in `options` or the `variant_id`; "
            "when the answer is `choose_variant`, ask the customer which option they want."
        ),
        "parameters": {
            "type": "object",
            "properties": {
                "product_id": {"type": "string", "description": "The id of a search result"},
                "variant_id": {"type": "integer"},
                "options": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "e.g. ['M', 'negro']",
                },
                "quantity": {"type": "integer", "minimum": 1, "default": 1},
            },
            "required": ["product_id"],
        },
    },
    {
        "name": "update_cart_item",
        "description": "Change the quantity of a variant in the cart; quantity 0 removes it.",
        "parameters": {
            "type": "object",
            "properties": {"variant_id": {"type": "integer"}, "quantity": {"type": "integer", "minimum": 0}},
            "required": ["variant_id", "quantity"],
        },
    },
    {
        "name": "view_cart",
        "description": "The customer's cart with current prices and subtotal.",
        "parameters": {"type": "object", "properties": {}},
    },
    {
        "name": "create_checkout",
        "description": (
            "Create the checkout for the cart; the customer receives the payment link by itself. Prices "
            "and stock are checked live: explain any refused item. If the answer is `contact_missing`, "
            "ask for the missing name, last name or e-mail and call again with them."
        ),
        "parameters": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "lastname": {"type": "string"},
                "email": {"type": "string"},
            },
        },
    },
    {
        "name": "request_coupon",
        "description": (
            "Ask the store for a discount coupon for this customer (only when they ask for a discount "
            "or hesitate over the price). The store's policy decides; never promise a discount the "
            "answer did not give."
        ),
        "parameters": {
            "type": "object",
            "properties": {"percent": {"type": "number", "description": "the percentage asked for, if any"}},
        },
    },
    {
        "name": "handoff_to_human",
        "description": "Pause the assistant and ask a person from the store to answer this customer.",
        "parameters": {
            "type": "object",
            "properties": {"reason": {"type": "string"}},
            "required": ["reason"],
        },
    },
]


@dataclass
class ToolOutcome:
    content: str  # what the model sees (JSON)
    data: Any
    ok: bool
    duration_ms: float


@dataclass
class Toolbox:
    """Tools for one turn. Keeps every result, so replies can be checked against them."""

    http: httpx.AsyncClient
    request: AgentTurnRequest
    results: list[Any] = field(default_factory=list)
    handoff_reason: str | None = None
    searches: list[dict[str, Any]] = field(default_factory=list)
    # The link message of a checkout created in this turn (sent as a button, never model text).
    checkout_message: dict[str, Any] | None = None

    async def run(self, name: str, args: dict[str, Any]) -> ToolOutcome:
        started = time.perf_counter()
        try:
            data = await self._dispatch(name, args)
            ok = not (isinstance(data, dict) and "error" in data)
        except httpx.HTTPError as exc:
            data, ok = {"error": f"tool unavailable ({type(exc).__name__})"}, False
        if ok:
            self.results.append(data)
        content = json.dumps(data, ensure_ascii=False, default=str)
        return ToolOutcome(content, data, ok, (time.perf_counter() - started) * 1000)

    async def _dispatch(self, name: str, args: dict[str, Any]) -> Any:
        tenant = str(self.request.tenant.id)
        if name == "search_products":
            query = str(args.get("query") or "").strip()[:300]
            if not query:
                return {"error": "query is required"}
            params = {
                "tenant_id": tenant,
                "q": query,
                "limit": 5,
                "include_out_of_stock": "true" if args.get("include_out_of_stock") else "false",
            }
            r = await self.http.get("/internal/products/search", params=params)
            r.raise_for_status()
            body = r.json()
            self.searches.append({"query": query, **body})
            return {"items": [_slim(i) for i in body.get("items", [])]}
        if name == "get_product":
            try:
                pid = uuid.UUID(str(args.get("product_id")))
            except ValueError:
                return {"error": "unknown product"}
            r = await self.http.get(f"/internal/products/{pid}", params={"tenant_id": tenant})
            if r.status_code == 404:
                return {"error": "unknown product"}
            r.raise_for_status()
            return _slim(r.json())
        if name == "get_order_status":
            return await self.order_status(str(args.get("order_number") or ""))
        if name == "store_info":
            return store_info(self.request.tenant.settings, str(args.get("topic") or "all"))
        if name in CART_TOOLS:
            return await self.cart_tool(name, args)
        if name == "handoff_to_human":
            self.handoff_reason = str(args.get("reason") or "requested by the assistant")[:200]
            return {"ok": True, "note": "A person from the store will take over this conversation."}
        return {"error": f"unknown tool {name}"}

    async def cart_tool(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        """The cart tools; the conversation and customer are the turn's, never the model's."""
        base = f"/internal/conversations/{self.request.conversation_id}"
        params = {"tenant_id": str(self.request.tenant.id)}
        if name == "add_to_cart":
            body: dict[str, Any] = {
                "product_id": str(args.get("product_id") or "")[:64],
                "quantity": _int(args.get("quantity"), 1, 1, 100),
                "options": [str(o)[:40] for o in (args.get("options") or []) if str(o).strip()][:5],
            }
            if (vid := _int(args.get("variant_id"), 0, 0, 2**53)) > 0:
                body["variant_id"] = vid
            r = await self.http.post(f"{base}/cart/items", params=params, json=body)
        elif name == "update_cart_item":
            body = {
                "variant_id": _int(args.get("variant_id"), 0, 0, 2**53),
                "quantity": _int(args.get("quantity"), 0, 0, 100),
            }
            if body["variant_id"] < 1:
                return {"error": "variant_id is required"}
            r = await self.http.patch(f"{base}/cart/items", params=params, json=body)
        elif name == "view_cart":
            r = await self.http.get(f"{base}/cart", params=params)
        elif name == "create_checkout":
            contact = {k: str(args[k])[:100] for k in ("name", "lastname", "email") if args.get(k)}
            r = await self.http.post(f"{base}/checkout", params=params, json=contact or None)
        else:  # request_coupon: only a percentage may be asked for; the policy decides
            coupon: dict[str, Any] = {"reason": "on_request"}
            try:
                if args.get("percent") is not None:
                    coupon["percent"] = max(0.0, min(float(args["percent"]), 100.0))
            except (TypeError, ValueError):
                pass
            r = await self.http.post(f"{base}/coupons", params=params, json=coupon)
        if r.status_code == 422:
            return {"error": "invalid arguments"}
        r.raise_for_status()
        data = r.json()
        if name == "create_checkout" and data.get("status") == "created":
            self.checkout_message = data.pop("message", None)
        return data  # type: ignore[no-any-return]

    async def order_status(self, number: str) -> dict[str, Any]:
        number = "".join(ch for ch in number if ch.isalnum())[:30]
        if not number:
            return {"error": "order_number is required"}
        customer = str(self.request.customer.id)
        r = await self.http.get(
            f"/internal/customers/{customer}/orders",
            params={"tenant_id": str(self.request.tenant.id), "number": number},
        )
        if r.status_code == 404:
            return {"found": False, "reason": "no such order for this customer"}
        r.raise_for_status()
        body = r.json()
        orders = body.get("items", body) if isinstance(body, dict) else body
        mine = [
            o
            for o in orders or []
            if isinstance(o, dict)
            and str(o.get("number", "")).lstrip("#") == number
            # Defence in depth: the endpoint filters by customer; refuse anything that says otherwise.
            and str(o.get("customer_id") or customer) == customer
        ]
        if not mine:
            return {"found": False, "reason": "no such order for this customer"}
        o = mine[0]
        keep = (
            "number",
            "status",
            "payment_status",
            "shipping_status",
            "total",
            "currency",
            "created_at",
            "shipping_tracking_number",
            "shipping_tracking_url",
            "tracking_url",
            "status_url",
        )
        return {"found": True, "order": {k: o[k] for k in keep if o.get(k) is not None}}


CART_TOOLS = ("add_to_cart", "update_cart_item", "view_cart", "create_checkout", "request_coupon")


def _int(value: Any, default: int, low: int, high: int) -> int:
    try:
        return max(low, min(int(value), high))
    except (TypeError, ValueError):
        return default


def _slim(item: dict[str, Any]) -> dict[str, Any]:
    keep = ("id", "name", "price", "promotional_price", "currency", "stock", "in_stock", "url", "variants")
    return {k: item.get(k) for k in keep if item.get(k) not in (None, [], "")}


def store_info(settings: dict[str, Any], topic: str) -> dict[str, Any]:
    """Store facts by topic: only the whitelisted topics and keys (STORE_TOPICS), never any
    other setting, whatever topic the model (or a customer's injected text) asks for."""
    if topic != "all" and topic not in STORE_TOPICS:
        return {"error": "unknown topic", "topics": [*STORE_TOPICS, "all"]}
    nested = settings.get("store_info")
    store = nested if isinstance(nested, dict) else settings
    out: dict[str, Any] = {}
    topics = STORE_TOPICS if topic == "all" else {topic: STORE_TOPICS[topic]}
    for name, keys in topics.items():
        for k in keys:
            if store.get(k):
                out[name] = store[k]
                break
    return out or {"unknown": True, "note": "the store has not published this information"}
