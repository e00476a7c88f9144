import { useEffect, useState, type FormEvent, type ReactNode } from "react";

import type {
  AgentSettings,
  BusinessHours,
  ChannelAccount,
  CredentialOut,
  Page,
  Role,
  Tenant,
  UserOut,
} from "../api/types";
import { Async, ErrorBox } from "../components/common";
import { CouponSettings } from "../components/CouponSettings";
import { NotificationsSection } from "../components/Notifications";
import { useI18n, type Key } from "../i18n";
import { useAction, useApi, useEvents, useResource } from "../useApi";

const DAYS: BusinessHours["day"][] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const ROLES: Exclude<Role, "super_admin">[] = ["owner", "admin", "agent", "viewer"];

function Section({ title, children, id }: { title: Key; children: ReactNode; id: string }) {
  const { t } = useI18n();
  return (
    <section className="card" aria-labelledby={`${id}-title`} data-testid={`settings-${id}`}>
      <h2 id={`${id}-title`}>{t(title)}</h2>
      {children}
    </section>
  );
}

function SaveRow({ pending, saved, error }: { pending: boolean; saved: boolean; error: Error | null }) {
  const { t } = useI18n();
  return (
    <div className="row">
      <button type="submit" disabled={pending}>
        {pending ? t("common.loading") : t("common.save")}
      </button>
      {saved && !pending && !error && <span role="status">{t("common.saved")}</span>}
      <ErrorBox error={error} />
    </div>
  );
}

function StoreProfile({ tenant, onSaved }: { tenant: Tenant; onSaved: (t: Tenant) => void }) {
  const { t } = useI18n();
  const { client, can } = useApi();
  const [name, setName] = useState(tenant.name);
  const [saved, setSaved] = useState(false);
  const save = useAction(async () => {
    onSaved(await client.patch<Tenant>("/api/v1/tenant", { body: { name } }));
    setSaved(true);
  });
  const editable = can("owner");
  return (
    <Section title="settings.store" id="store">
      <form onSubmit={(e) => (e.preventDefault(), void save.run())}>
        <label>
          {t("settings.storeName")}
          <input value={name} readOnly={!editable} onChange={(e) => setName(e.target.value)} required maxLength={200} />
        </label>
        {editable && <SaveRow pending={save.pending} saved={saved} error={save.error} />}
      </form>
    </Section>
  );
}

type AgentForm = AgentSettings;

function AgentSection({ initial }: { initial: AgentForm }) {
  const { t } = useI18n();
  const { client, can } = useApi();
  const [form, setForm] = useState<AgentForm>(initial);
  const [emails, setEmails] = useState(initial.handoff_emails.join("\n"));
  const [saved, setSaved] = useState(false);
  const editable = can("admin");
  const save = useAction(async () => {
    const body: AgentForm = {
      ...form,
      handoff_emails: emails.split(/[\n,]/).map((s) => s.trim()).filter(Boolean),
    };
    const out = await client.put<AgentForm>("/api/v1/settings/agent", { body });
    setForm(out);
    setSaved(true);
  });
  const setHours = (i: number, patch: Partial<BusinessHours>) =>
    setForm({ ...form, business_hours: form.business_hours.map((h, j) => (i === j ? { ...h, ...patch } : h)) });
  return (
    <Section title="settings.agent" id="agent">
      {!editable && <p className="muted">{t("settings.readOnly")}</p>}
      <form onSubmit={(e: FormEvent) => (e.preventDefault(), void save.run())}>
        <fieldset disabled={!editable}>
          <label>
            {t("settings.persona")}
            <textarea rows={3} maxLength={4000} value={form.persona ?? ""} onChange={(e) => setForm({ ...form, persona: e.target.value || null })} />
          </label>
          <div className="grid2">
            <label>
              {t("settings.language")}
              <select value={form.language} onChange={(e) => setForm({ ...form, language: e.target.value as AgentSettings["language"] })}>
                <option value="es">Español</option>
                <option value="pt">Português</option>
                <option value="en">English</option>
              </select>
            </label>
            <label>
              {t("settings.timezone")}
              <input value={form.timezone} onChange={(e) => setForm({ ...form, timezone: e.target.value })} />
            </label>
          </div>
          <fieldset className="hours">
            <legend>{t("settings.hours")}</legend>
            {form.business_hours.map((h, i) => (
              <div className="row" key={i}>
                <label>
                  <span className="sr-only">{t("settings.day")}</span>
                  <select aria-label={t("settings.day")} value={h.day} onChange={(e) => setHours(i, { day: e.target.value as BusinessHours["day"] })}>
                    {DAYS.map((d) => (
                      <option key={d} value={d}>
                        {t(`day.${d}`)}
                      </option>
                    ))}
                  </select>
                </label>
                <label>
                  {t("settings.open")}
                  <input type="time" value={h.open} onChange={(e) => setHours(i, { open: e.target.value })} />
                </label>
                <label>
                  {t("settings.close")}
                  <input type="time" value={h.close} onChange={(e) => setHours(i, { close: e.target.value })} />
                </label>
                <button type="button" className="link" onClick={() => setForm({ ...form, business_hours: form.business_hours.filter((_, j) => j !== i) })}>
                  {t("settings.remove")}
                </button>
              </div>
            ))}
            <button
              type="button"
              className="secondary"
              onClick={() => setForm({ ...form, business_hours: [...form.business_hours, { day: "mon", open: "09:00", close: "18:00" }] })}
            >
              {t("settings.addHours")}
            </button>
          </fieldset>
          <label>
            {t("settings.handoffEmails")}
            <textarea rows={2} value={emails} onChange={(e) => setEmails(e.target.value)} />
          </label>
          <label>
            {t("settings.handoffTimeout")}
            <input
              type="number"
              min={5}
              max={10080}
              value={form.handoff_timeout_minutes ?? ""}
              onChange={(e) => setForm({ ...form, handoff_timeout_minutes: e.target.value ? Number(e.target.value) : null })}
            />
          </label>
        </fieldset>
        {editable && <SaveRow pending={save.pending} saved={saved} error={save.error} />}
      </form>
    </Section>
  );
}

function SynonymsSection({ initial }: { initial: string[][] }) {
  const { t } = useI18n();
  const { client, can } = useApi();
  const [text, setText] = useState(initial.map((g) => g.join(", ")).join("\n"));
  const [saved, setSaved] = useState(false);
  const editable = can("admin");
  const save = useAction(async () => {
    const groups = text
      .split("\n")
      .map((line) => line.split(",").map((w) => w.trim()).filter(Boolean))
      .filter((g) => g.length > 1);
    const out = await client.put<{ groups: string[][] }>("/api/v1/settings/synonyms", { body: { groups } });
    setText(out.groups.map((g) => g.join(", ")).join("\n"));
    setSaved(true);
  });
  return (
    <Section title="settings.synonymsTitle" id="synonyms">
      <form onSubmit={(e) => (e.preventDefault(), void save.run())}>
        <label>
          {t("settings.synonyms")}
          <textarea rows={5} readOnly={!editable} value={text} onChange={(e) => setText(e.target.value)} placeholder="remera, camiseta, playera" />
        </label>
        {editable && <SaveRow pending={save.pending} saved={saved} error={save.error} />}
      </form>
    </Section>
  );
}

/** A write-only secret: the stored value is only ever shown masked. */
function SecretField({ kind, scope, label, current, onSaved }: { kind: string; scope: string; label: string; current?: CredentialOut; onSaved: () => void }) {
  const { t } = useI18n();
  const { client } = useApi();
  const [value, setValue] = useState("");
  const save = useAction(async () => {
    await client.put("/api/v1/credentials/{kind}", { params: { kind }, body: { value, scope } });
    setValue("");
    onSaved();
  });
  const id = `cred-${kind}-${scope}`.replace(/[^a-zA-Z0-9_-]/g, "_");
  return (
    <form className="secret row" onSubmit={(e) => (e.preventDefault(), void save.run())} data-testid={`credential-${kind}`}>
      <label htmlFor={id}>
        {label} <code className="masked">{current ? current.value : t("settings.notSet")}</code>
      </label>
      <input id={id} type="password" autoComplete="new-password" placeholder={t("settings.replace")} value={value} onChange={(e) => setValue(e.target.value)} required />
      <button type="submit" className="secondary" disabled={save.pending || !value}>
        {t("settings.set")}
      </button>
      <ErrorBox error={save.error} />
    </form>
  );
}

function Credentials() {
  const { t } = useI18n();
  const channels = useResource((c, signal) => c.get<Page<ChannelAccount>>("/api/v1/channels", { signal }), []);
  const creds = useResource((c, signal) => c.get<Page<CredentialOut>>("/api/v1/credentials", { signal }), []);
  const find = (kind: string, scope: string) => creds.data?.items.find((c) => c.kind === kind && c.scope === scope);
  return (
    <>
      <Section title="settings.channels" id="channels">
        <p className="muted">{t("settings.credentialsNote")}</p>
        <Async data={channels.data} error={channels.error ?? creds.error} loading={channels.loading} reload={channels.reload}>
          {(page) =>
            page.items.length === 0 ? (
              <p className="muted">{t("common.none")}</p>
            ) : (
              page.items.map((ch) => {
                const prefix = ch.channel === "whatsapp" ? "whatsapp" : "meta";
                return (
                  <fieldset key={ch.id} className="channel">
                    <legend>
                      {t(`channel.${ch.channel}`)} · {ch.display_name ?? ch.external_id} <code>{ch.external_id}</code>
                    </legend>
                    {(["access_token", "app_secret", "verify_token"] as const).map((k) => (
                      <SecretField key={k} kind={`${prefix}_${k}`} scope={ch.external_id} label={k} current={find(`${prefix}_${k}`, ch.external_id)} onSaved={creds.reload} />
                    ))}
                  </fieldset>
                );
              })
            )
          }
        </Async>
      </Section>
      <Section title="settings.llm" id="llm">
        <p className="muted">{t("settings.credentialsNote")}</p>
        <SecretField kind="openai_api_key" scope="" label="OpenAI" current={find("openai_api_key", "")} onSaved={creds.reload} />
        <SecretField kind="anthropic_api_key" scope="" label="Anthropic" current={find("anthropic_api_key", "")} onSaved={creds.reload} />
      </Section>
    </>
  );
}

interface SyncState {
  state: string;
  done: number;
  total: number | null;
}

function TiendaNube({ tenant }: { tenant: Tenant }) {
  const { t } = useI18n();
  const { client, can } = useApi();
  const [sync, setSync] = useState<SyncState | null>(null);
  useEvents((e) => {
    if (e.type !== "catalog.sync") return;
    const d = e.data as { state?: string; done?: number; total?: number | null };
    setSync({ state: String(d.state ?? ""), done: Number(d.done ?? 0), total: d.total ?? null });
  });
  const resync = useAction(async () => {
    await client.post("/api/v1/admin/actions/{action}", { params: { action: "resync_catalog" }, body: {} });
    setSync({ state: "queued", done: 0, total: null });
  });
  const running = sync && !["done", "failed", "cancelled"].includes(sync.state);
  return (
    <Section title="settings.tiendanube" id="tiendanube">
      {tenant.tiendanube_store_id ? (
        <p data-testid="tn-connected">{t("settings.tnConnected", { id: tenant.tiendanube_store_id })}</p>
      ) : (
        <>
          <p>{t("settings.tnNotConnected")}</p>
          {can("owner") && (
            <a className="button" href="https://www.tiendanube.com/apps" target="_blank" rel="noopener noreferrer">
              {t("settings.tnConnect")}
            </a>
          )}
        </>
      )}
      {tenant.tiendanube_store_id && can("admin") && (
        <button type="button" className="secondary" disabled={resync.pending || Boolean(running)} onClick={() => void resync.run()}>
          {t("settings.tnResync")}
        </button>
      )}
      {sync && (
        <div className="sync" data-testid="sync-progress">
          <label>
            {sync.total ? t("settings.tnProgress", { done: sync.done, total: sync.total }) : t("settings.tnState", { state: sync.state })}
            <progress max={sync.total ?? undefined} value={sync.total ? sync.done : undefined} />
          </label>
        </div>
      )}
      <ErrorBox error={resync.error} />
    </Section>
  );
}

function Users() {
  const { t } = useI18n();
  const { client, me } = useApi();
  const users = useResource((c, signal) => c.get<Page<UserOut>>("/api/v1/users", { signal }), []);
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("agent");
  const [sent, setSent] = useState(false);
  const invite = useAction(async () => {
    await client.post("/api/v1/users/invite", { body: { email, role } });
    setEmail("");
    setSent(true);
    users.reload();
  });
  const patch = useAction(async (id: string, body: Partial<UserOut>) => {
    await client.patch("/api/v1/users/{user_id}", { params: { user_id: id }, body });
    users.reload();
  });
  return (
    <Section title="settings.users" id="users">
      <Async data={users.data} error={users.error} loading={users.loading} reload={users.reload}>
        {(page) => (
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t("login.email")}</th>
                  <th scope="col">{t("common.role")}</th>
                  <th scope="col">{t("settings.active")}</th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((u) => (
                  <tr key={u.id}>
                    <td>{u.email}</td>
                    <td>
                      <select aria-label={`${t("common.role")} ${u.email}`} value={u.role} disabled={u.id === me?.user?.id || patch.pending} onChange={(e) => void patch.run(u.id, { role: e.target.value as Role })}>
                        {ROLES.map((r) => (
                          <option key={r} value={r}>
                            {t(`role.${r}`)}
                          </option>
                        ))}
                      </select>
                    </td>
                    <td>
                      <button type="button" className="link" disabled={u.id === me?.user?.id || patch.pending} onClick={() => void patch.run(u.id, { is_active: !u.is_active })}>
                        {u.is_active ? t("settings.deactivate") : t("settings.activate")}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Async>
      <ErrorBox error={patch.error} />
      <form className="row" onSubmit={(e) => (e.preventDefault(), setSent(false), void invite.run())}>
        <label>
          {t("login.email")}
          <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label>
          {t("common.role")}
          <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {t(`role.${r}`)}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={invite.pending}>
          {t("settings.invite")}
        </button>
        {sent && <span role="status">{t("settings.inviteSent")}</span>}
        <ErrorBox error={invite.error} />
      </form>
    </Section>
  );
}

export function Settings() {
  const { t } = useI18n();
  const { can } = useApi();
  const tenant = useResource((c, signal) => c.get<Tenant>("/api/v1/tenant", { signal }), []);
  const agent = useResource((c, signal) => c.get<AgentForm>("/api/v1/settings/agent", { signal }), []);
  const synonyms = useResource((c, signal) => c.get<{ groups: string[][] }>("/api/v1/settings/synonyms", { signal }), []);
  const [current, setCurrent] = useState<Tenant | undefined>(undefined);
  useEffect(() => setCurrent(tenant.data), [tenant.data]);
  return (
    <div className="settings">
      <h1>{t("settings.title")}</h1>
      <Async data={current} error={tenant.error} loading={tenant.loading} reload={tenant.reload}>
        {(tn) => (
          <>
            <StoreProfile tenant={tn} onSaved={setCurrent} />
            <TiendaNube tenant={tn} />
          </>
        )}
      </Async>
      <Async data={agent.data} error={agent.error} loading={agent.loading} reload={agent.reload}>
        {(a) => <AgentSection initial={a} />}
      </Async>
      <NotificationsSection />
      <Async data={synonyms.data} error={synonyms.error} loading={synonyms.loading} reload={synonyms.reload}>
        {(s) => <SynonymsSection initial={s.groups} />}
      </Async>
      <CouponSettings />
      {can("owner") && <Credentials />}
      {can("owner") && <Users />}
    </div>
  );
}
