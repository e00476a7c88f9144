import { act, cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import type { ConversationDetail, ConversationSummary } from "../api/types";
import { App } from "../App";
import { DICTS, detectLang, translate } from "../i18n";
import { Analytics } from "../pages/Analytics";
import { Conversation, windowOpen } from "../pages/Conversation";
import { Inbox } from "../pages/Inbox";
import { FakeEventSource, fakeServer, me, renderWithApi, signIn } from "./helpers";

const CONV_ID = "22222222-2222-2222-2222-222222222222";
const now = () => new Date().toISOString();

function summary(over: Partial<ConversationSummary> = {}): ConversationSummary {
  return {
    id: CONV_ID,
    channel: "whatsapp",
    status: "open",
    ai_paused: false,
    paused_by: null,
    paused_at: null,
    handoff_reason: null,
    unread_count: 0,
    last_message_at: now(),
    customer: { id: "c1", name: "Ana", phone_number: "+54 9 11 ****-1234" },
    ...over,
  };
}

function detail(over: Partial<ConversationDetail> = {}): ConversationDetail {
  return {
    ...summary(),
    messages: [
      { id: "m1", direction: "inbound", sender: "customer", type: "text", text: "¿Tienen remeras?", status: "received", agent_run_id: "r1", created_at: now() },
      { id: "m2", direction: "outbound", sender: "ai", type: "text", text: "Sí, tenemos", status: "delivered", agent_run_id: "r1", created_at: now() },
      { id: "m3", direction: "inbound", sender: "customer", type: "image", text: null, status: "received", created_at: now() },
    ],
    agent_runs: [
      {
        id: "r1",
        trigger_message_id: "m1",
        outcome: "replied",
        provider: "openai",
        model: "gpt-test",
        fallback_used: true,
        latency_ms: 1234,
        created_at: now(),
        finished_at: now(),
        steps: [
          { kind: "retrieval", name: "search_products", duration_ms: 12, detail: { query: "remeras", results: [{ id: "p1", name: "Remera negra", score: 0.9 }] } },
          { kind: "tool_call", name: "search_products", detail: { arguments: { q: "remeras" } } },
          // streamed live, then stored again with the run's result: shown once
          { kind: "tool_call", name: "search_products", detail: { arguments: { q: "remeras" } } },
        ],
      },
    ],
    ...over,
  };
}

beforeEach(() => {
  FakeEventSource.instances = [];
  window.history.replaceState(null, "", "/");
});
afterEach(() => {
  cleanup();
  localStorage.clear();
});

describe("i18n", () => {
  it("has every key in Spanish, Portuguese and English", () => {
    const keys = Object.keys(DICTS.en).sort();
    expect(Object.keys(DICTS.es).sort()).toEqual(keys);
    expect(Object.keys(DICTS.pt).sort()).toEqual(keys);
  });
  it("follows the browser language and falls back to Spanish", () => {
    expect(detectLang(["pt-BR", "en"])).toBe("pt");
    expect(detectLang(["fr-FR", "en-US"])).toBe("en");
    expect(detectLang(["de"])).toBe("es");
    expect(translate("pt", "inbox.unread", { n: 3 })).toBe("3 não lidas");
  });
});

describe("windowOpen", () => {
  it("closes 24 h after the customer's last message, on WhatsApp only", () => {
    const old = new Date(Date.now() - 25 * 3600 * 1000).toISOString();
    const msgs = [{ id: "a", direction: "inbound" as const, sender: "customer", type: "text", text: "x", status: "received", created_at: old }];
    expect(windowOpen({ channel: "whatsapp", messages: msgs })).toBe(false);
    expect(windowOpen({ channel: "instagram", messages: msgs })).toBe(true);
    expect(windowOpen({ channel: "whatsapp", messages: [{ ...msgs[0], created_at: now() }] })).toBe(true);
  });
});

const CART = {
  items: [{ variant_id: 11, product_id: "p1", quantity: 2, name: "Remera Aurora", variant: "M / Negro", price: "15000.00", subtotal: "30000.00", available: true }],
  subtotal: "30000.00",
  currency: "ARS",
  checkouts: [],
  orders: [{ order_id: 9, number: "105", total: "15000.00", currency: "ARS", payment_status: "paid", source: "ai", matched_by: "draft_order", ordered_at: "2026-01-01T00:00:00Z" }],
};

describe("Conversation", () => {
  function server(role: string, conv = detail()) {
    return fakeServer({
      "GET /api/v1/auth/me": me(role),
      [`GET /api/v1/conversations/${CONV_ID}`]: () => ({ body: conv }),
      "GET /api/v1/customers/c1": { id: "c1", name: "Ana", phone_number: null, identities: [{ channel: "whatsapp", external_id: "54911****1234" }], orders: [{ number: 1001, status: "paid", total: "15000.00", currency: "ARS" }] },
      [`POST /api/v1/conversations/${CONV_ID}/pause`]: summary({ ai_paused: true }),
      [`POST /api/v1/conversations/${CONV_ID}/messages`]: () => ({ status: 202, body: {} }),
      [`GET /api/v1/conversations/${CONV_ID}/cart`]: CART,
      [`POST /api/v1/conversations/${CONV_ID}/checkout`]: ({ body }: { body: unknown }) =>
        (body as { contact?: { email?: string } }).contact?.email
          ? { body: { checkout_url: "https://t.example/checkout/1", draft_order_id: 77, total: "30000.00", currency: "ARS" } }
          : { status: 422, body: { error: { code: "contact_missing", message: "missing contact: lastname, email", details: { missing: ["lastname", "email"] } } } },
    });
  }

  it("shows the cart beside the conversation and sends the checkout link, asking for the missing contact", async () => {
    signIn("agent");
    const s = server("agent");
    renderWithApi(<Conversation id={CONV_ID} />, s);
    expect((await screen.findByTestId("cart-lines")).textContent).toContain("Remera Aurora");
    expect(screen.getByTestId("cart-subtotal").textContent).toContain("30000.00");
    expect(screen.getByTestId("produced-orders").textContent).toContain("#105");
    fireEvent.click(screen.getByTestId("send-checkout"));
    const email = (await screen.findByLabelText("E-mail")) as HTMLInputElement;
    fireEvent.change(screen.getByLabelText("Last name"), { target: { value: "Pérez" } });
    fireEvent.change(email, { target: { value: "ana@example.com" } });
    fireEvent.click(screen.getByTestId("send-checkout"));
    expect((await screen.findByTestId("checkout-sent")).textContent).toContain("30000.00");
    const posts = s.calls.filter((c) => c.method === "POST" && c.path.endsWith("/checkout"));
    expect(posts.at(-1)?.body).toEqual({ contact: { lastname: "Pérez", email: "ana@example.com" } });
  });

  it("shows messages with ticks, media, the thinking log beside the AI reply, and the customer panel", async () => {
    signIn("agent");
    renderWithApi(<Conversation id={CONV_ID} />, server("agent"));
    const messages = await screen.findAllByTestId("message");
    expect(messages).toHaveLength(3);
    const ai = messages[1];
    expect(within(ai).getByTestId("ticks").dataset.status).toBe("delivered");
    const log = within(ai).getByTestId("thinking-log");
    expect(log.textContent).toContain("search_products");
    expect(log.textContent).toContain("Remera negra");
    expect(log.textContent).toContain("gpt-test");
    expect(log.textContent).toContain("1234 ms");
    expect(log.textContent).toContain("Fallback used");
    expect(within(ai).getAllByTestId("thinking-step")).toHaveLength(2);
    expect(within(messages[2]).getByTestId("media").textContent).toContain("image");
    expect(within(messages[0]).queryByTestId("thinking-log")).toBeNull();
    expect((await screen.findByTestId("orders")).textContent).toContain("#1001");
    expect((screen.getByTestId("identities")).textContent).toContain("54911****1234");
  });

  it("lets an agent pause the AI and reply", async () => {
    signIn("agent");
    const s = server("agent");
    renderWithApi(<Conversation id={CONV_ID} />, s);
    fireEvent.click(await screen.findByTestId("pause-ai"));
    await waitFor(() => expect(s.calls.some((c) => c.method === "POST" && c.path.endsWith("/pause"))).toBe(true));
    fireEvent.change(screen.getByTestId("reply-text"), { target: { value: "Hola, soy Laura" } });
    fireEvent.click(screen.getByTestId("reply-send"));
    await waitFor(() => expect(s.calls.find((c) => c.path.endsWith("/messages"))?.body).toEqual({ text: "Hola, soy Laura" }));
  });

  it("shows a viewer no pause button and no reply box", async () => {
    signIn("viewer");
    renderWithApi(<Conversation id={CONV_ID} />, server("viewer"));
    await screen.findAllByTestId("message");
    await waitFor(() => expect(screen.queryByTestId("pause-ai")).toBeNull());
    expect(screen.queryByTestId("resume-ai")).toBeNull();
    expect(screen.queryByTestId("reply-text")).toBeNull();
  });

  it("disables the reply box outside the 24-hour window and offers the template", async () => {
    signIn("agent");
    const old = new Date(Date.now() - 30 * 3600 * 1000).toISOString();
    const conv = detail({ messages: [{ id: "m1", direction: "inbound", sender: "customer", type: "text", text: "hola", status: "received", created_at: old }], agent_runs: [] });
    renderWithApi(<Conversation id={CONV_ID} />, server("agent", conv));
    expect(await screen.findByTestId("window-closed")).toBeTruthy();
    expect((screen.getByTestId("reply-text") as HTMLTextAreaElement).disabled).toBe(true);
    expect((screen.getByTestId("send-template") as HTMLButtonElement).disabled).toBe(false);
  });
});

describe("Inbox", () => {
  it("adds a conversation announced by the event stream without a reload", async () => {
    signIn("viewer");
    let items: ConversationSummary[] = [];
    const s = fakeServer({ "GET /api/v1/auth/me": me("viewer"), "GET /api/v1/conversations": () => ({ body: { items, next_cursor: null } }) });
    renderWithApi(<Inbox />, s);
    expect(await screen.findByText("No conversations match these filters")).toBeTruthy();
    items = [summary({ unread_count: 2 })];
    await waitFor(() => expect(FakeEventSource.instances.length).toBeGreaterThan(0));
    act(() => FakeEventSource.latest().emit("message.created", { message: { id: "m9", conversation_id: CONV_ID } }));
    const row = await screen.findByTestId("conversation-row");
    expect((row).textContent).toContain("Ana");
    expect((within(row).getByTestId("unread")).textContent).toContain("2");
  });

  it("sends the filters to the API", async () => {
    signIn("viewer");
    const s = fakeServer({ "GET /api/v1/auth/me": me("viewer"), "GET /api/v1/conversations": { items: [], next_cursor: null } });
    renderWithApi(<Inbox />, s);
    await screen.findByText("No conversations match these filters");
    fireEvent.click(screen.getByLabelText("Needs a human"));
    await waitFor(() => expect(s.calls.some((c) => c.path.includes("status=pending_human"))).toBe(true));
  });
});

describe("Analytics", () => {
  it("renders the overview's totals", async () => {
    signIn("viewer");
    const overview = {
      from: "2026-01-01",
      to: "2026-01-02",
      timezone: "UTC",
      totals: { conversations: 7, messages_in: 21, messages_out: 19, answered_by_ai: 15, answered_by_human: 4, ai_share: 0.79, human_share: 0.21, handoffs: 2, handoff_conversations: 2, handoff_rate: 0.2857, median_first_response_seconds: 3.5, agent_runs: 15, fallback_runs: 1, fallback_rate: 0.0667 },
      handoff_reasons: [{ reason: "manual", count: 2 }],
      top_searches: [{ query: "remera", count: 5 }],
      unanswered_questions: [],
      days: [],
    };
    const revenue = {
      currency: "ARS",
      revenue: "45000.00",
      orders: 3,
      conversion_rate: 0.25,
      average_order_value: "15000.00",
      by_source: { ai: { revenue: "30000.00", orders: 2 }, staff: { revenue: "15000.00", orders: 1 }, recovery: { revenue: "0", orders: 0 }, campaign: { revenue: "0", orders: 0 } },
      by_day: [{ day: "2026-01-01", revenue: "45000.00", orders: 3 }],
    };
    const s = fakeServer({ "GET /api/v1/auth/me": me("viewer"), "GET /api/v1/analytics/overview": overview, "GET /api/v1/analytics/revenue": revenue });
    renderWithApi(<Analytics />, s);
    expect((await screen.findByTestId("revenue-orders")).textContent).toBe("3");
    expect(screen.getByTestId("revenue-ai").textContent).toContain("· 2");
    expect((await screen.findByTestId("stat-conversations")).textContent).toContain("7");
    expect((screen.getByTestId("stat-messages_in")).textContent).toContain("21");
    expect((screen.getByTestId("stat-handoff_rate")).textContent).toContain("28.6 %");
    expect(screen.getByText("remera")).toBeTruthy();
    expect(s.calls.find((c) => c.path.startsWith("/api/v1/analytics"))?.path).toMatch(/from=\d{4}-\d\d-\d\d&to=/);
  });
});

describe("App", () => {
  it("signs in, then switches the whole UI to Portuguese", async () => {
    const s = fakeServer({
      "POST /api/v1/auth/login": ({ body }: { body: unknown }) =>
        (body as { password: string }).password === "correct horse"
          ? { body: { access_token: "a", refresh_token: "r-0123456789abcdefghij", expires_at: "2099", expires_in: 900 } }
          : { status: 401, body: { error: { code: "unauthorized", message: "bad" } } },
      "GET /api/v1/auth/me": me("owner"),
      "GET /api/v1/conversations": { items: [], next_cursor: null },
    });
    renderWithApi(<App />, s);
    fireEvent.change(await screen.findByLabelText("E-mail"), { target: { value: "owner@demo.test" } });
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "wrong" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect((await screen.findByRole("alert")).textContent).toContain("Wrong e-mail or password");
    fireEvent.change(screen.getByLabelText("Password"), { target: { value: "correct horse" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("heading", { name: "Inbox" })).toBeTruthy();
    fireEvent.change(screen.getByTestId("lang-switch"), { target: { value: "pt" } });
    expect(await screen.findByRole("heading", { name: "Caixa de entrada" })).toBeTruthy();
    expect(screen.getByRole("link", { name: "Análises" })).toBeTruthy();
    expect(localStorage.getItem("nexus.lang")).toBe("pt");
  });

  it("hides telemetry and the playground from a viewer", async () => {
    signIn("viewer");
    const s = fakeServer({ "GET /api/v1/auth/me": me("viewer"), "GET /api/v1/conversations": { items: [], next_cursor: null } });
    renderWithApi(<App />, s);
    expect(await screen.findByRole("link", { name: "Inbox" })).toBeTruthy();
    expect(screen.queryByRole("link", { name: "Telemetry" })).toBeNull();
    expect(screen.queryByRole("link", { name: "Playground" })).toBeNull();
  });
});
