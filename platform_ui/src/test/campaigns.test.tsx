import { cleanup, fireEvent, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { Campaigns, progress } from "../pages/Campaigns";
import { FakeEventSource, fakeServer, me, renderWithApi, signIn } from "./helpers";

beforeEach(() => {
  FakeEventSource.instances = [];
});
afterEach(() => {
  cleanup();
  localStorage.clear();
});

const COUNTS = { total: 10, queued: 4, sent: 6, delivered: 5, read: 2, replied: 1, failed: 0, opted_out: 0, skipped: 0, cancelled: 0 };
const CAMPAIGN = { id: "c1", name: "Black Friday", template: "promo_bf", language: "es_AR", status: "running", schedule_at: null, paused_reason: null, plan: null, counts: COUNTS };

describe("Campaigns", () => {
  it("computes progress from the settled share", () => {
    expect(progress(COUNTS)).toBe(60);
    expect(progress(null)).toBe(0);
  });

  it("refetches on campaign.updated and shows the spread plan in the store's language", async () => {
    signIn("owner");
    let counts = COUNTS;
    const s = fakeServer({
      "GET /api/v1/auth/me": me("owner"),
      "GET /api/v1/templates": { items: [] },
      "GET /api/v1/campaigns": () => ({ body: { items: [{ ...CAMPAIGN, status: "draft", counts }], next_cursor: null } }),
      "GET /api/v1/campaigns/c1/report": { counts, failed_by_code: {}, skipped_by_reason: {}, revenue: "0", orders: 0, paid_orders: 0, currency: null, revenue_note: "" },
      "POST /api/v1/campaigns/c1/start": () => ({
        status: 409,
        body: { error: { code: "spread_over_days", message: "server text", details: { plan: { audience: 3000, days: 3 } } } },
      }),
    });
    renderWithApi(<Campaigns />, s, "es");
    fireEvent.click(await screen.findByRole("button", { name: "Iniciar" }));
    expect(await screen.findByRole("alert")).toHaveProperty(
      "textContent",
      expect.stringContaining("3000 destinatarios superan el límite diario de usuarios únicos: los envíos se reparten en 3 días."),
    );
    counts = { ...COUNTS, queued: 0 };
    FakeEventSource.latest().emit("campaign.updated", { campaign_id: "c1", status: "running" });
    await waitFor(() => expect(s.calls.filter((c) => c.path === "/api/v1/campaigns").length).toBeGreaterThan(1));
  });

  it("shows the campaign's revenue and orders, and creates a campaign with a coupon and order filters", async () => {
    signIn("owner");
    const s = fakeServer({
      "GET /api/v1/auth/me": me("owner"),
      "GET /api/v1/templates": {
        items: [{ name: "promo_bf", language: "es_AR", status: "APPROVED", category: "MARKETING", parameters: 2, body: "Hola {{1}}, usá {{2}}" }],
      },
      "GET /api/v1/campaigns": {
        items: [{ ...CAMPAIGN, status: "done", coupon: { percent: "15.00", code: "NXAB12CD34" }, counts: { ...COUNTS, queued: 0 } }],
        next_cursor: null,
      },
      "GET /api/v1/campaigns/c1/report": {
        counts: { ...COUNTS, queued: 0 },
        failed_by_code: {},
        skipped_by_reason: {},
        revenue: "45000.50",
        orders: 3,
        paid_orders: 2,
        currency: "ARS",
        revenue_note: "",
      },
      "POST /api/v1/campaigns": { status: 201, body: { id: "c2" } },
    });
    renderWithApi(<Campaigns />, s, "es");
    expect(await screen.findByTestId("campaign-revenue")).toHaveProperty("textContent", "$ 45000.50");
    expect(screen.getByTestId("campaign-orders")).toHaveProperty("textContent", "3");
    expect(screen.getByTestId("campaign-coupon-info").textContent).toContain("15% NXAB12CD34");
    expect(screen.getByText("Pedidos pagados dentro de los 7 días del mensaje de la campaña, o con su cupón.")).toBeTruthy();

    fireEvent.change(screen.getByTestId("campaign-name"), { target: { value: "Verano" } });
    await waitFor(() => expect(screen.getAllByRole("option", { name: "promo_bf (es_AR)" }).length).toBe(1));
    fireEvent.change(screen.getByTestId("campaign-template"), { target: { value: "promo_bf|es_AR" } });
    fireEvent.change(screen.getByTestId("campaign-coupon"), { target: { value: "15" } });
    fireEvent.change(screen.getByTestId("campaign-var-2"), { target: { value: "coupon.code" } });
    fireEvent.change(screen.getByTestId("campaign-category"), { target: { value: "Remeras" } });
    fireEvent.change(screen.getByTestId("campaign-order-after"), { target: { value: "2026-10-01" } });
    fireEvent.click(screen.getByTestId("campaign-create"));
    await waitFor(() => expect(s.calls.some((c) => c.method === "POST" && c.path === "/api/v1/campaigns")).toBe(true));
    const body = s.calls.find((c) => c.method === "POST" && c.path === "/api/v1/campaigns")!.body as Record<string, unknown>;
    expect(body.coupon).toEqual({ percent: "15" });
    expect(body.variables).toEqual(["customer.first_name", "coupon.code"]);
    expect(body.audience).toEqual({ filter: { bought_categories: ["Remeras"], last_order_after: "2026-10-01" } });
  });
});
