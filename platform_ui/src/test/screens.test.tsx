import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { StatusIndicator } from "../components/StatusIndicator";
import { I18nProvider } from "../i18n";
import { Settings } from "../pages/Settings";
import { Telemetry } from "../pages/Telemetry";
import { ApiProvider } from "../useApi";
import { DISCOVERED, FakeEventSource, fakeServer, me, renderWithApi, signIn } from "./helpers";

beforeEach(() => {
  FakeEventSource.instances = [];
});
afterEach(() => {
  cleanup();
  localStorage.clear();
});

const TENANT = { id: "t1", name: "Nube Indumentaria", status: "active", tiendanube_store_id: 1234567, created_at: "2026-01-01T00:00:00Z" };
const AGENT = { persona: "Sofía", language: "es", timezone: "America/Argentina/Buenos_Aires", business_hours: [], handoff_emails: ["a@b.example.com"], handoff_timeout_minutes: null };

const COUPONS = { enabled: false, max_percent: "10.00", min_purchase: "0.00", valid_hours: 48, daily_cap: 20, on_request: true, on_recovery: false };

function settingsServer(role: string) {
  return fakeServer({
    "GET /api/v1/auth/me": me(role),
    "GET /api/v1/tenant": TENANT,
    "GET /api/v1/settings/agent": AGENT,
    "GET /api/v1/channels": { items: [{ id: "ch1", channel: "whatsapp", external_id: "100000000001", display_name: "Ventas", enabled: true }], next_cursor: null },
    "GET /api/v1/credentials": { items: [{ kind: "whatsapp_access_token", scope: "100000000001", value: "••••abcd" }], next_cursor: null },
    "PUT /api/v1/credentials/openai_api_key": { kind: "openai_api_key", scope: "", value: "••••wxyz" },
    "GET /api/v1/users": { items: [me("owner").user], next_cursor: null },
    "PUT /api/v1/settings/agent": ({ body }) => ({ body: body as object }),
    "GET /api/v1/settings/synonyms": { groups: [] },
    "PUT /api/v1/settings/synonyms": ({ body }) => ({ body: body as object }),
    "POST /api/v1/admin/actions/resync_catalog": { action: "resync_catalog", result: { started: true } },
    "GET /api/v1/settings/coupons": COUPONS,
    "PUT /api/v1/settings/coupons": ({ body }) => ({ body: body as object }),
  });
}

describe("Settings", () => {
  it("turns coupons on within limits the owner sets", async () => {
    signIn("owner");
    const s = settingsServer("owner");
    renderWithApi(<Settings />, s);
    const section = await screen.findByTestId("settings-coupons");
    const enabled = (await screen.findByTestId("coupon-enabled")) as HTMLInputElement;
    expect(enabled.checked).toBe(false);
    fireEvent.click(enabled);
    fireEvent.change(screen.getByTestId("coupon-max_percent"), { target: { value: "15" } });
    fireEvent.click(section.querySelector("button[type=submit]") as HTMLButtonElement);
    await waitFor(() =>
      expect(s.calls.find((c) => c.method === "PUT" && c.path === "/api/v1/settings/coupons")?.body).toEqual({ ...COUPONS, enabled: true, max_percent: "15" }),
    );
  });

  it("shows the coupon policy read-only to an agent", async () => {
    signIn("agent");
    renderWithApi(<Settings />, settingsServer("agent"));
    expect(((await screen.findByTestId("coupon-max_percent")) as HTMLInputElement).readOnly).toBe(true);
    expect(screen.getByTestId("settings-coupons").querySelector("button[type=submit]")).toBeNull();
  });

  it("shows credentials masked only, and writes a new key without ever reading it back", async () => {
    signIn("owner");
    const s = settingsServer("owner");
    renderWithApi(<Settings />, s);
    const wa = await screen.findByTestId("credential-whatsapp_access_token");
    expect(wa.textContent).toContain("••••abcd");
    const input = wa.querySelector("input") as HTMLInputElement;
    expect(input.type).toBe("password");
    expect(input.value).toBe("");
    const openai = screen.getByTestId("credential-openai_api_key");
    fireEvent.change(openai.querySelector("input") as HTMLInputElement, { target: { value: "sk-test-0123456789wxyz" } });
    fireEvent.click(openai.querySelector("button") as HTMLButtonElement);
    await waitFor(() =>
      expect(s.calls.find((c) => c.method === "PUT" && c.path === "/api/v1/credentials/openai_api_key")?.body).toEqual({ value: "sk-test-0123456789wxyz", scope: "" }),
    );
    await waitFor(() => expect((openai.querySelector("input") as HTMLInputElement).value).toBe(""));
  });

  it("saves the synonym groups and shows the catalog sync progress", async () => {
    signIn("owner");
    const s = settingsServer("owner");
    renderWithApi(<Settings />, s);
    const synonyms = await screen.findByLabelText(/Synonyms/);
    fireEvent.change(synonyms, { target: { value: "remera, camiseta, playera" } });
    fireEvent.click(screen.getByTestId("settings-synonyms").querySelector("button[type=submit]") as HTMLButtonElement);
    await waitFor(() => {
      const put = s.calls.find((c) => c.method === "PUT" && c.path === "/api/v1/settings/synonyms");
      expect(put?.body).toEqual({ groups: [["remera", "camiseta", "playera"]] });
    });
    fireEvent.click(screen.getByRole("button", { name: "Sync the catalog now" }));
    await waitFor(() => expect(FakeEventSource.instances.length).toBeGreaterThan(0));
    FakeEventSource.latest().emit("catalog.sync", { sync_id: "s1", state: "running", done: 120, total: 320 });
    const progress = await screen.findByTestId("sync-progress");
    await waitFor(() => expect(progress.textContent).toContain("120 of 320"));
    expect((progress.querySelector("progress") as HTMLProgressElement).value).toBe(120);
  });

  it("is read-only for a viewer: no credentials, no users, no save buttons", async () => {
    signIn("viewer");
    renderWithApi(<Settings />, settingsServer("viewer"));
    await screen.findByText("Your role can view these settings but not change them.");
    expect(screen.queryByTestId("settings-channels")).toBeNull();
    expect(screen.queryByTestId("settings-users")).toBeNull();
    expect(screen.queryByRole("button", { name: "Save" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Sync the catalog now" })).toBeNull();
  });
});

describe("Telemetry", () => {
  it("pages with the cursor and filters by action prefix", async () => {
    signIn("admin");
    const entry = (id: string, action: string) => ({ id, at: "2026-01-01T10:00:00Z", actor: "user:x", action, level: "info", target_type: null, target_id: null, conversation_id: null, request_id: null, payload: { reason: "manual" } });
    const s = fakeServer({
      "GET /api/v1/auth/me": me("admin"),
      "GET /api/v1/telemetry/logs": ({ url }) =>
        url.searchParams.get("cursor") === "c2"
          ? { body: { items: [entry("3", "conversation.resumed")], next_cursor: null } }
          : { body: { items: [entry("1", "conversation.paused"), entry("2", "conversation.human_reply")], next_cursor: "c2" } },
    });
    renderWithApi(<Telemetry />, s);
    await screen.findByText("conversation.paused");
    fireEvent.click(screen.getByRole("button", { name: "Load more" }));
    await screen.findByText("conversation.resumed");
    expect(screen.queryByRole("button", { name: "Load more" })).toBeNull();
    fireEvent.change(screen.getByLabelText("Action (prefix*)"), { target: { value: "conversation.*" } });
    fireEvent.click(screen.getByRole("button", { name: "Search" }));
    await waitFor(() => expect(s.calls.some((c) => c.path.includes("action=conversation.*"))).toBe(true));
  });
});

describe("StatusIndicator", () => {
  it("shows an unreachable API with the reason and a retry", () => {
    render(
      <I18nProvider initial="en">
        <ApiProvider initialDiscovery={{ ...DISCOVERED, health: "unreachable", error: "/api/health/ready: connection refused" }}>
          <StatusIndicator />
        </ApiProvider>
      </I18nProvider>,
    );
    const indicator = screen.getByTestId("status-indicator");
    expect(indicator.textContent).toContain("API unreachable");
    expect(indicator.textContent).toContain("connection refused");
    expect(screen.getByRole("button", { name: "Retry" })).toBeTruthy();
  });
});
