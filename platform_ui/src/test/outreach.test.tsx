// Issue 12 in the dashboard: notification settings, consent in the customer panel, proactive
// messages marked in the conversation, and the notification/recovery cards.

import { cleanup, fireEvent, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { NotificationsSection } from "../components/Notifications";
import { NotificationCards } from "../pages/Analytics";
import { ConversationView } from "../pages/Conversation";
import { FakeEventSource, fakeServer, me, renderWithApi, signIn } from "./helpers";

beforeEach(() => {
  FakeEventSource.instances = [];
});
afterEach(() => {
  cleanup();
  localStorage.clear();
});

const EVENT = { enabled: true, template: null, language: "" };
const SETTINGS = {
  order_paid: { ...EVENT, template: "pedido_pagado" },
  order_packed: EVENT,
  order_fulfilled: EVENT,
  order_cancelled: EVENT,
  cart_recovery: { enabled: false, template: null, language: "", delay_minutes: 60, cooldown_days: 7 },
};
const TEMPLATES = {
  items: [
    { name: "pedido_pagado", language: "es_AR", category: "UTILITY", status: "APPROVED", parameters: 3, body: "Hola {{1}}" },
    { name: "carrito_abandonado", language: "es_AR", category: "MARKETING", status: "APPROVED", parameters: 4 },
    { name: "promo", language: "es_AR", category: "MARKETING", status: "PENDING", parameters: 0 },
  ],
};

describe("Notifications and recovery", () => {
  it("lists the templates, offers only approved ones and saves the mapping", async () => {
    signIn("admin");
    const s = fakeServer({
      "GET /api/v1/auth/me": me("admin"),
      "GET /api/v1/templates": TEMPLATES,
      "GET /api/v1/settings/notifications": SETTINGS,
      "PUT /api/v1/settings/notifications": ({ body }) => ({ body: body as object }),
      "POST /api/v1/templates/sync": { synced: 3, removed: 0 },
    });
    renderWithApi(<NotificationsSection />, s);
    const table = await screen.findByTestId("templates");
    expect(within(table).getAllByRole("row")).toHaveLength(4);
    const recovery = await screen.findByTestId("notif-cart_recovery");
    const select = within(recovery).getByRole("combobox") as HTMLSelectElement;
    const options = Array.from(select.options).map((o) => o.value);
    expect(options).toEqual(["", "carrito_abandonado", "pedido_pagado"]); // PENDING "promo" is not offered
    fireEvent.change(select, { target: { value: "carrito_abandonado" } });
    fireEvent.click(within(recovery).getByRole("checkbox"));
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => {
      const put = s.calls.find((c) => c.method === "PUT");
      expect((put?.body as typeof SETTINGS).cart_recovery).toEqual({ ...SETTINGS.cart_recovery, enabled: true, template: "carrito_abandonado" });
    });
    fireEvent.click(screen.getByRole("button", { name: "Read the templates from Meta" }));
    expect(await screen.findByText("3 templates read")).toBeTruthy();
  });

  it("is read-only for a viewer", async () => {
    signIn("viewer");
    const s = fakeServer({
      "GET /api/v1/auth/me": me("viewer"),
      "GET /api/v1/templates": TEMPLATES,
      "GET /api/v1/settings/notifications": SETTINGS,
    });
    renderWithApi(<NotificationsSection />, s);
    await screen.findByTestId("notification-settings");
    expect(screen.queryByRole("button", { name: "Save" })).toBeNull();
    expect((within(screen.getByTestId("notif-order_paid")).getByRole("checkbox") as HTMLInputElement).disabled).toBe(true);
  });
});

const CONV = {
  id: "c1",
  channel: "whatsapp",
  status: "open",
  ai_paused: false,
  unread_count: 0,
  last_message_at: "2026-11-27T10:00:00Z",
  customer: { id: "cu1", name: "Ana", phone_number: "+54 9 11 ****-6789" },
  messages: [
    { id: "m1", direction: "outbound", sender: "system", type: "template", text: "Hola Ana, recibimos el pago", status: "read", created_at: "2026-11-27T10:00:00Z", proactive: "order_paid" },
    { id: "m2", direction: "inbound", sender: "customer", type: "consent", text: "BAJA", status: "received", created_at: "2026-11-27T10:01:00Z" },
  ],
  agent_runs: [],
};

describe("Conversation", () => {
  it("marks proactive messages and shows consent with its history; staff can change it", async () => {
    signIn("agent");
    let state = "opted_out";
    const s = fakeServer({
      "GET /api/v1/auth/me": me("agent"),
      "GET /api/v1/conversations/c1": CONV,
      "GET /api/v1/customers/cu1": () => ({
        body: {
          id: "cu1",
          name: "Ana",
          phone_number: null,
          identities: [],
          orders: [],
          consent: { whatsapp: { state, source: state === "opted_out" ? "whatsapp" : "staff", at: "2026-11-27T10:01:00Z" } },
          consent_history: [{ channel: "whatsapp", state: "opted_out", source: "whatsapp", at: "2026-11-27T10:01:00Z" }],
        },
      }),
      "PUT /api/v1/customers/cu1/consent": ({ body }) => {
        state = (body as { state: string }).state;
        return { body: { changed: true } };
      },
    });
    renderWithApi(<ConversationView id="c1" />, s);
    const chip = await screen.findByTestId("proactive");
    expect(chip.textContent).toBe("Sent by Nexus: Order paid");
    const consent = await screen.findByTestId("consent-state");
    expect(consent.getAttribute("data-state")).toBe("opted_out");
    expect(screen.getByTestId("consent-history").textContent).toContain("Opted out");
    fireEvent.click(screen.getByRole("button", { name: "Mark as opted in" }));
    await waitFor(() => expect(screen.getByTestId("consent-state").getAttribute("data-state")).toBe("opted_in"));
    expect(s.calls.find((c) => c.method === "PUT")?.body).toEqual({ state: "opted_in" });
  });
});

describe("Analytics", () => {
  it("shows notifications sent, delivered, read and the recovered revenue", () => {
    signIn("viewer");
    renderWithApi(
      <NotificationCards
        data={{
          notifications: { sent: 12, delivered: 10, read: 7, failed: 1, skipped: 3 },
          recovery: { sent: 4, recovered: 2, revenue: { ARS: "5660.00" } },
        }}
      />,
      fakeServer({}),
    );
    expect(screen.getByTestId("stat-notif_sent").textContent).toBe("12");
    expect(screen.getByTestId("stat-notif_read").textContent).toBe("7");
    expect(screen.getByTestId("stat-recovered").textContent).toBe("2");
    expect(screen.getByTestId("stat-recovered_revenue").textContent).toContain("5,660.00");
  });
});
