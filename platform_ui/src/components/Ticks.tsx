import type { MessageStatus } from "../api/types";
import { useI18n, type Key } from "../i18n";

const SHAPES: Record<string, { glyph: string; key: Key }> = {
  queued: { glyph: "○", key: "tick.queued" },
  sending: { glyph: "○", key: "tick.queued" },
  sent: { glyph: "✓", key: "tick.sent" },
  delivered: { glyph: "✓✓", key: "tick.delivered" },
  read: { glyph: "✓✓", key: "tick.read" },
  failed: { glyph: "⚠", key: "tick.failed" },
};

/** WhatsApp-style delivery ticks for an outbound message, with a text label for screen readers. */
export function Ticks({ status }: { status: MessageStatus }) {
  const { t } = useI18n();
  const shape = SHAPES[status];
  if (!shape) return null;
  return (
    <span className={`ticks tick-${status}`} data-testid="ticks" data-status={status} title={t(shape.key)}>
      <span aria-hidden="true">{shape.glyph}</span>
      <span className="sr-only">{t(shape.key)}</span>
    </span>
  );
}
