// Shapes of the responses the orchestrator declares as free-form objects in its OpenAPI
// (`dict[str, Any]`): the conversation API, analytics, telemetry, channels and credentials.
// Kept to the fields the dashboard reads.

export type Role = "owner" | "admin" | "agent" | "viewer" | "super_admin";
export type Channel = "whatsapp" | "instagram" | "messenger" | "playground";
export type ConversationStatus = "open" | "pending_human" | "resolved";

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface TokenOut {
  access_token: string;
  refresh_token: string;
  expires_at: string;
  expires_in: number;
}

export interface UserOut {
  id: string;
  tenant_id: string;
  email: string;
  name: string | null;
  role: Role;
  is_active: boolean;
  last_login_at?: string | null;
}

export interface Me {
  kind: "user" | "super_admin";
  role: Role;
  tenant_id: string | null;
  user: UserOut | null;
}

export interface ConversationSummary {
  id: string;
  channel: Channel;
  status: ConversationStatus;
  ai_paused: boolean;
  paused_by: string | null;
  paused_at: string | null;
  handoff_reason: string | null;
  unread_count: number;
  last_message_at: string | null;
  created_at?: string;
  customer: { id: string; name: string | null; phone_number: string | null } | null;
}

export type MessageStatus = "received" | "queued" | "sending" | "sent" | "delivered" | "read" | "failed" | string;

export interface Message {
  id: string;
  direction: "inbound" | "outbound";
  sender: "customer" | "ai" | "human" | "system" | string;
  type: string;
  text: string | null;
  status: MessageStatus;
  error_code?: string | null;
  sent_by_user_id?: string | null;
  agent_run_id?: string | null;
  created_at: string;
  /** What an outbound interactive message offered. */
  interactive?: {
    list?: { button: string; rows: { id: string; title: string; description?: string }[] };
    buttons?: { id: string; title: string }[];
    cta_url?: { display_text: string; url: string };
  } | null;
  /** Set on messages Nexus sent first: order_paid, order_fulfilled, cart_recovery, … */
  proactive?: string | null;
}

export interface ThinkingStep {
  kind: string;
  name: string;
  detail?: Record<string, unknown>;
  duration_ms?: number | null;
  at?: string | null;
}

export interface AgentRun {
  id: string;
  trigger_message_id: string | null;
  outcome: string | null;
  provider: string | null;
  model: string | null;
  fallback_used: boolean;
  latency_ms: number | null;
  steps: ThinkingStep[] | null;
  created_at: string;
  finished_at: string | null;
}

export interface ConversationDetail extends ConversationSummary {
  messages: Message[];
  agent_runs: AgentRun[];
}

export interface AnalyticsTotals {
  conversations: number;
  messages_in: number;
  messages_out: number;
  answered_by_ai: number;
  answered_by_human: number;
  ai_share: number | null;
  human_share: number | null;
  handoffs: number;
  handoff_conversations: number;
  handoff_rate: number | null;
  median_first_response_seconds: number | null;
  agent_runs: number;
  fallback_runs: number;
  fallback_rate: number | null;
}

export interface AnalyticsDay {
  date: string;
  conversations: number;
  messages_in: number;
  messages_out: number;
  answered_by_ai: number;
  answered_by_human: number;
  handoffs: number;
  agent_runs: number;
  fallback_runs: number;
}

export interface AnalyticsOverview {
  from: string;
  to: string;
  timezone: string;
  totals: AnalyticsTotals;
  handoff_reasons: { reason: string; count: number }[];
  top_searches: { query: string; count: number }[];
  unanswered_questions: { question: string; count: number }[];
  days: AnalyticsDay[];
}

export interface LogEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  level: "debug" | "info" | "warning" | "error";
  target_type: string | null;
  target_id: string | null;
  conversation_id: string | null;
  request_id: string | null;
  payload: unknown;
}

export interface Tenant {
  id: string;
  name: string;
  status: string;
  tiendanube_store_id: number | null;
  created_at: string;
}

export interface BusinessHours {
  day: "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun";
  open: string;
  close: string;
}

export interface AgentSettings {
  persona: string | null;
  language: "es" | "pt" | "en";
  timezone: string;
  business_hours: BusinessHours[];
  handoff_emails: string[];
  handoff_timeout_minutes: number | null;
}

export interface ChannelAccount {
  id: string;
  channel: Channel;
  external_id: string;
  display_name: string | null;
  enabled: boolean;
}

export interface CredentialOut {
  kind: string;
  scope: string;
  value: string;
  updated_at?: string;
}

/** The envelope of every server-sent event (contracts/events.py). */
export interface DashboardEvent {
  id: number;
  tenant_id: string;
  type: string;
  data: Record<string, unknown>;
  created_at: string;
}

export const EVENT_TYPES = [
  "message.created",
  "message.status",
  "conversation.updated",
  "agent.step",
  "agent.run",
  "handoff",
  "catalog.sync",
  "campaign.updated",
  "cart.updated",
  "order.attributed",
] as const;

export interface TemplateInfo {
  name: string;
  language: string;
  category: string;
  status: string;
  parameters: number;
  body?: string | null;
}

export interface EventSetting {
  enabled: boolean;
  template: string | null;
  language: string;
}

export interface RecoverySetting extends EventSetting {
  delay_minutes: number;
  cooldown_days: number;
}

export interface NotificationSettings {
  order_paid: EventSetting;
  order_packed: EventSetting;
  order_fulfilled: EventSetting;
  order_cancelled: EventSetting;
  cart_recovery: RecoverySetting;
}

export interface NotificationAnalytics {
  notifications: { sent: number; delivered: number; read: number; failed: number; skipped: number };
  recovery: { sent: number; recovered: number; revenue: Record<string, string> };
}

export type ConsentState = "opted_in" | "opted_out" | "unknown";

export interface ConsentInfo {
  state: ConsentState;
  source: string | null;
  at: string | null;
}

export interface ConsentEvent {
  channel: string;
  state: ConsentState;
  source: string;
  at: string;
  actor?: string | null;
}

// --- selling in the chat ---------------------------------------------------------------------------

export interface CartLine {
  variant_id: number;
  product_id: string | null;
  quantity: number;
  name: string | null;
  variant: string | null;
  price: string | null;
  subtotal: string | null;
  available: boolean;
}

export interface CheckoutLink {
  checkout_url: string;
  draft_order_id: number;
  total: string | null;
  currency: string | null;
  coupon_code?: string | null;
  source?: string;
  created_at?: string;
}

export interface AttributedOrder {
  order_id: number;
  number: string | null;
  total: string;
  currency: string | null;
  payment_status: string | null;
  source: string;
  matched_by: string;
  ordered_at: string;
}

/** `GET /api/v1/conversations/{id}/cart`. */
export interface SalesPanel {
  items: CartLine[];
  subtotal: string;
  currency: string | null;
  checkouts: CheckoutLink[];
  orders: AttributedOrder[];
}

export interface CouponPolicy {
  enabled: boolean;
  max_percent: string;
  min_purchase: string;
  valid_hours: number;
  daily_cap: number;
  on_request: boolean;
  on_recovery: boolean;
  on_campaign?: boolean;
}

export type SaleSource = "ai" | "staff" | "recovery" | "campaign";

export interface Revenue {
  currency: string | null;
  revenue: string;
  orders: number;
  conversion_rate: number;
  average_order_value: string;
  by_source: Record<SaleSource, { revenue: string; orders: number }>;
  by_day: { day: string; revenue: string; orders: number }[];
}

export interface ProductHit {
  id: string;
  name: string;
  price: string | null;
  currency: string | null;
  variants: { id: number; values: string[]; price: string | null; stock: number | null }[];
}
