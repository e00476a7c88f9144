"""One turn: guard rails, the provider chain with tools, and the offline responder as the floor.

Chain per tenant (`tenant.settings["provider_chain"]`, default openai → anthropic), each provider
within its timeout and the turn's ceiling (`deadline_seconds`, at most 300 s), skipped while its
circuit is open. A reply that states a price, stock, discount or URL no tool gave (or quotes the
system prompt) is regenerated once, then replaced by the offline responder. The offline responder
always answers; it flags the conversation for a person only when asked for one or when it could
not help twice in a row.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog
from nexus_common.breaker import CircuitBreakers
from nexus_common.contracts.agent import AgentTurnRequest, AgentTurnResponse, ReplyPart, Usage

from . import offline
from .guardrails import detect_language, fact_violations, leaks_prompt, needs_person
from .prompt import CANARY, system_prompt
from .providers import AnthropicProvider, OpenAIProvider, Provider, ProviderError, fingerprint
from .steps import StepLog
from .tools import TOOL_SPECS, Toolbox

log = structlog.get_logger("agent_service.turn")

DEFAULT_CHAIN = ("openai", "anthropic")
OFFLINE_RESERVE_S = 8.0  # kept for the offline responder at the end of the ceiling
MAX_TOOL_ROUNDS = 4


class GuardrailFailed(Exception):
    pass


@dataclass
class LlmOutcome:
    text: str
    model: str | None
    usage: Usage = field(default_factory=Usage)


@dataclass
class Agent:
    """Process-wide: settings, the orchestrator client, provider clients and circuit breakers."""

    settings: Any
    http: httpx.AsyncClient
    breakers: CircuitBreakers
    _providers: dict[str, Provider] = field(default_factory=dict)

    def provider(self, name: str, key: str) -> Provider:
        cache_key = f"{name}:{fingerprint(key)}"
        if cache_key not in self._providers:
            s = self.settings
            self._providers[cache_key] = (
                OpenAIProvider(key, s.openai_model, s.openai_base_url)
                if name == "openai"
                else AnthropicProvider(key, s.anthropic_model, s.anthropic_base_url)
            )
        return self._providers[cache_key]

    async def tenant_keys(self, req: AgentTurnRequest, steps: StepLog) -> dict[str, str | None]:
        """Tenant keys (from the orchestrator) override the platform's; never logged or stepped."""
        keys: dict[str, str | None] = {}
        try:
            r = await self.http.get(f"/internal/tenants/{req.tenant.id}/llm-keys", timeout=5.0)
            r.raise_for_status()
            keys = {k: v for k, v in r.json().items() if isinstance(v, str) and v}
        except httpx.HTTPError as exc:
            steps.add("error", "tenant_keys_unavailable", error=type(exc).__name__)
        platform = {
            "openai": self.settings.openai_api_key,
            "anthropic": self.settings.anthropic_api_key,
        }
        out: dict[str, str | None] = {}
        for name, secret in platform.items():
            out[name] = keys.get(name) or (secret.get_secret_value() if secret else None)
        steps.add(
            "llm",
            "keys",
            sources={n: ("tenant" if keys.get(n) else "platform" if out[n] else "none") for n in out},
        )
        return out

    # ---- the turn ------------------------------------------------------------------------------
    async def run(self, req: AgentTurnRequest) -> AgentTurnResponse:
        started = time.monotonic()
        ceiling = min(req.deadline_seconds, 300.0)
        deadline = started + ceiling
        steps = StepLog(self.http, req.run_id)
        toolbox = Toolbox(self.http, req)
        new_texts = [m.text for m in req.new_messages if m.text]
        history_customer = [m.text for m in req.history if m.role == "customer" and m.text]
        lang = detect_language(
            new_texts, default=detect_language(history_customer, default=req.tenant.language)
        )
        steps.add("guardrail", "language", language=lang)
        try:
            reason = needs_person(new_texts, history_customer)
            if reason:
                steps.add("handoff", "handoff_to_human", reason=reason)
                reply = await offline.respond(toolbox, " ".join(new_texts), lang, handoff_reason=reason)
                return self._response(
                    req, reply.parts, "offline", None, lang, steps, handoff=reason, fallback=False
                )

            chain = [
                p for p in (req.tenant.settings.get("provider_chain") or DEFAULT_CHAIN) if p != "offline"
            ]
            keys = await self.tenant_keys(req, steps)
            for name in chain:
                if name not in ("openai", "anthropic"):
                    continue
                key = keys.get(name)
                if not key:
                    steps.add("fallback", "skip_provider", provider=name, reason="no key")
                    continue
                provider = self.provider(name, key)
                if not self.breakers.allow(provider.breaker_key):
                    steps.add("fallback", "skip_provider", provider=name, reason="circuit open")
                    continue
                budget = min(
                    self.settings.llm_timeout_seconds, deadline - time.monotonic() - OFFLINE_RESERVE_S
                )
                if budget < 1.0:
                    steps.add("fallback", "skip_provider", provider=name, reason="turn ceiling reached")
                    break
                t0 = time.monotonic()
                try:
                    outcome = await asyncio.wait_for(
                        self._llm_turn(provider, req, lang, toolbox, steps, budget), timeout=budget
                    )
                except GuardrailFailed:
                    self.breakers.success(provider.breaker_key)  # the provider works; its answer didn't
                    steps.add("fallback", "guardrail_replaced", provider=name, to="offline")
                    break
                except Exception as exc:  # noqa: BLE001 - any provider failure: next in the chain
                    self.breakers.failure(provider.breaker_key)
                    reason_txt = (
                        "timeout"
                        if isinstance(exc, TimeoutError)
                        else str(exc)
                        if isinstance(exc, ProviderError)
                        else type(exc).__name__
                    )
                    steps.add(
                        "fallback",
                        "provider_failed",
                        (time.monotonic() - t0) * 1000,
                        provider=name,
                        reason=reason_txt,
                    )
                    log.warning(
                        "agent.provider_failed", provider=name, reason=reason_txt, run_id=str(req.run_id)
                    )
                    continue
                self.breakers.success(provider.breaker_key)
                handoff = toolbox.handoff_reason
                if handoff:
                    steps.add("handoff", "handoff_to_human", reason=handoff)
                parts = [ReplyPart(type="text", text=outcome.text[:4096])]
                if toolbox.checkout_message:
                    # The link goes as a button built from the tool's answer, never from model text.
                    parts.append(_cta_part(toolbox.checkout_message))
                return self._response(
                    req,
                    parts,
                    name,
                    outcome.model,
                    lang,
                    steps,
                    handoff=handoff,
                    fallback=name != chain[0],
                    usage=outcome.usage,
                )
            steps.add("fallback", "offline_responder", reason="no provider answered")
            last = req.new_messages[-1]
            reply = await offline.respond(toolbox, " ".join(new_texts), lang, reply_id=last.reply_id)
            if reply.unhelped:
                steps.add("fallback", "offline_unhelped", previous=req.unhelped_turns)
            if reply.handoff:
                steps.add("handoff", "handoff_to_human", reason=reply.handoff)
            return self._response(
                req,
                reply.parts,
                "offline",
                None,
                lang,
                steps,
                handoff=reply.handoff,
                fallback=True,
                unhelped=reply.unhelped,
            )
        finally:
            await steps.close()

    async def _llm_turn(
        self,
        provider: Provider,
        req: AgentTurnRequest,
        lang: str,
        toolbox: Toolbox,
        steps: StepLog,
        budget: float,
    ) -> LlmOutcome:
        system = system_prompt(req, lang)
        messages: list[dict[str, Any]] = []
        for m in req.history[-30:]:
            if m.text and m.role in ("customer", "ai", "human"):
                messages.append({"role": "user" if m.role == "customer" else "assistant", "content": m.text})
        messages.append({"role": "user", "content": "\n".join(m.text for m in req.new_messages if m.text)})
        usage = Usage()
        model: str | None = None
        regenerated = False
        first_result = len(toolbox.results)
        for _round in range(MAX_TOOL_ROUNDS + 2):
            t0 = time.monotonic()
            reply = await provider.complete(system, messages, TOOL_SPECS, request_timeout=budget)
            model = reply.model or provider.model
            usage.prompt_tokens += reply.prompt_tokens
            usage.completion_tokens += reply.completion_tokens
            steps.add(
                "llm",
                provider.name,
                (time.monotonic() - t0) * 1000,
                model=model,
                prompt_tokens=reply.prompt_tokens,
                completion_tokens=reply.completion_tokens,
                tool_calls=[c.name for c in reply.tool_calls],
            )
            if reply.tool_calls and _round < MAX_TOOL_ROUNDS:
                messages.append({"role": "assistant", "content": reply.text, "tool_calls": reply.tool_calls})
                for call in reply.tool_calls:
                    steps.add("tool_call", call.name, arguments=call.arguments)
                    outcome = await toolbox.run(call.name, call.arguments)
                    if call.name == "search_products" and toolbox.searches:
                        last = toolbox.searches[-1]
                        steps.add(
                            "retrieval",
                            "search_products",
                            outcome.duration_ms,
                            query=last["query"],
                            vector_status=last.get("vector_status"),
                            embedding=last.get("embedding"),
                            results=[
                                {
                                    "id": i["id"],
                                    "name": i.get("name"),
                                    "score": i.get("score"),
                                    "matched_by": i.get("matched_by"),
                                }
                                for i in last.get("items", [])
                            ],
                        )
                    steps.add(
                        "tool_result",
                        call.name,
                        outcome.duration_ms,
                        ok=outcome.ok,
                        size_bytes=len(outcome.content.encode()),
                    )
                    messages.append(
                        {
                            "role": "tool",
                            "tool_call_id": call.id,
                            "name": call.name,
                            "content": outcome.content,
                        }
                    )
                continue
            text = reply.text.strip()
            problems = fact_violations(text, toolbox.results[first_result:] + [req.tenant.settings])
            if leaks_prompt(text, system, CANARY):
                problems.append("system prompt quoted")
            if not text:
                problems.append("empty reply")
            if not problems:
                return LlmOutcome(text, model, usage)
            steps.add("guardrail", "reply_rejected", problems=problems, regenerated=regenerated)
            if regenerated:
                raise GuardrailFailed(problems)
            regenerated = True
            messages.append({"role": "assistant", "content": text})
            messages.append(
                {
                    "role": "user",
                    "content": (
                        "[store system] Your previous reply was not sent: it contained "
                        + "; ".join(problems)
                        + ". Write it again using only prices, stock, discounts and links from tool results "
                        "of this conversation (call a tool if you need them), in the customer's language."
                    ),
                }
            )
        raise GuardrailFailed(["too many tool rounds"])

    def _response(
        self,
        req: AgentTurnRequest,
        parts: list[ReplyPart],
        provider: str,
        model: str | None,
        lang: str,
        steps: StepLog,
        *,
        handoff: str | None,
        fallback: bool,
        usage: Usage | None = None,
        unhelped: bool = False,
    ) -> AgentTurnResponse:
        return AgentTurnResponse(
            run_id=req.run_id,
            parts=parts,
            unhelped=unhelped,
            handoff=handoff is not None,
            handoff_reason=handoff,
            provider=provider,
            model=model,
            fallback_used=fallback,
            language=lang,
            steps=list(steps.steps),
            usage=usage or Usage(),
        )


def _cta_part(message: dict[str, Any]) -> ReplyPart:
    cta = message.get("cta_url") or {}
    return ReplyPart(
        type="cta_url",
        text=str(message.get("text") or "")[:4096],
        url=cta.get("url"),
        display_text=str(cta.get("display_text") or "")[:20] or None,
    )
