import { useState, type FormEvent } from "react";

import { ApiError } from "../api/client";
import { ErrorBox } from "../components/common";
import { LanguageSwitch } from "../components/Layout";
import { StatusIndicator } from "../components/StatusIndicator";
import { useI18n } from "../i18n";
import { useApi } from "../useApi";

export function Login() {
  const { t } = useI18n();
  const { login } = useApi();
  // make dev prints a sign-in link with the demo owner's e-mail filled in.
  const [email, setEmail] = useState(() => new URLSearchParams(window.location.search).get("email") ?? "");
  const [password, setPassword] = useState("");
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<Error | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setPending(true);
    setError(null);
    try {
      await login(email, password);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) setError(new Error(t("login.failed")));
      else if (err instanceof ApiError && err.status === 429) setError(new Error(t("login.locked")));
      else setError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      setPending(false);
    }
  };

  return (
    <div className="login-page">
      <header className="login-top">
        <StatusIndicator />
        <LanguageSwitch />
      </header>
      <main id="main" className="login-card">
        <h1>{t("login.title")}</h1>
        <form onSubmit={(e) => void submit(e)} aria-busy={pending}>
          <label>
            {t("login.email")}
            <input
              type="email"
              name="email"
              autoComplete="username"
              required
              value={email}
              onChange={(e) => setEmail(e.target.value)}
            />
          </label>
          <label>
            {t("login.password")}
            <input
              type="password"
              name="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </label>
          <ErrorBox error={error} />
          <button type="submit" disabled={pending}>
            {pending ? t("common.loading") : t("login.submit")}
          </button>
        </form>
      </main>
    </div>
  );
}
