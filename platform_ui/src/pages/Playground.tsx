import { useState, type FormEvent } from "react";

import { ErrorBox } from "../components/common";
import { useI18n } from "../i18n";
import { Link } from "../router";
import { useAction, useApi, useDebounced, useEvents, useResource } from "../useApi";
import { ConversationView } from "./Conversation";

interface PlaygroundIdentity {
  wa_id: string;
  conversation_id: string | null;
}

/** Chat as your own sandbox customer: the message runs through the real pipeline (webhook → AI →
 * outbox), and replies are recorded, never sent to WhatsApp. */
export function Playground() {
  const { t } = useI18n();
  const { client } = useApi();
  const [text, setText] = useState("");
  const found = useResource((c, signal) => c.get<PlaygroundIdentity>("/api/v1/playground/identity", { signal }), []);
  const refind = useDebounced(found.reload, 300);
  const convId = found.data?.conversation_id ?? null;
  useEvents((e) => {
    if (!convId && e.type === "message.created") refind();
  });
  const send = useAction(async (body: string, replyId?: string) => {
    await client.post("/api/v1/playground/messages", {
      body: { text: body, name: "Playground", ...(replyId ? { reply_id: replyId } : {}) },
    });
  });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const body = text.trim();
    if (!body) return;
    await send.run(body);
    setText("");
    if (!convId) refind();
  };
  return (
    <section aria-labelledby="playground-title" className="playground">
      <h1 id="playground-title">{t("playground.title")}</h1>
      <p className="muted">{t("playground.intro")}</p>
      <p className="muted" data-testid="playground-identity">
        {t("playground.as")} {found.data?.wa_id ?? "…"}
      </p>
      <div className="chat" data-testid="playground-chat">
        {convId ? <ConversationView id={convId} compact onChoose={(row) => void send.run(row.title, row.id)} /> : send.pending ? <p className="muted">{t("playground.waiting")}</p> : null}
      </div>
      <form className="reply" onSubmit={(e) => void submit(e)} aria-busy={send.pending}>
        <label htmlFor="playground-text" className="sr-only">
          {t("playground.send")}
        </label>
        <textarea id="playground-text" data-testid="playground-text" rows={2} placeholder={t("playground.placeholder")} value={text} onChange={(e) => setText(e.target.value)} />
        <div className="row">
          {convId && <Link href={`/inbox/${convId}`}>{t("playground.open")}</Link>}
          <button type="submit" data-testid="playground-send" disabled={send.pending || !text.trim()}>
            {t("playground.send")}
          </button>
        </div>
        <ErrorBox error={send.error} />
      </form>
    </section>
  );
}
