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
      "GET /api/v1/campaigns/c1/report": { counts, failed_by_code: {}, skipped_by_reason: {}, revenue: null, revenue_note: "" },
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
});
