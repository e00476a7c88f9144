"""Meta webhook bodies → typed items. Pure functions: no I/O, nothing trusted.

Shapes: EXTERNAL_APIS.md A4 (WhatsApp Cloud API) and B1 (Instagram / Messenger). Every `entry[]`,
`changes[]`, `messages[]` and `statuses[]` is read (Meta batches). A body that is not one of these
shapes raises `UnknownShape` (→ 400); fields Nexus does not use are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..phones import normalize_wa_id

MAX_TEXT = 8000
MEDIA_TYPES = ("image", "audio", "document", "video", "sticker")


class UnknownShape(ValueError):
    """The body is JSON but not a webhook shape Nexus understands."""


@dataclass
class InboundMessage:
    channel: str  # whatsapp | instagram | messenger
    account_id: str  # phone_number_id, page id or Instagram account id
    sender: str  # raw wa_id / PSID / IGSID, as the provider sent it
    contact_key: str  # the stable identity key (normalized wa_id; PSID/IGSID as is)
    phone_e164: str | None
    name: str | None
    provider_message_id: str
    timestamp: datetime | None
    type: str
    text: str | None = None
    media: dict[str, Any] | None = None
    payload: dict[str, Any] | None = None


@dataclass
class StatusUpdate:
    channel: str
    account_id: str
    provider_message_id: str
    status: str
    timestamp: datetime | None
    error_code: str | None = None
    error_message: str | None = None
    callback_data: str | None = None


@dataclass
class TemplateUpdate:
    """A `message_template_status_update` / `template_category_update` of a WABA (F5)."""

    waba_id: str
    field: str
    value: dict[str, Any]


TEMPLATE_FIELDS = ("message_template_status_update", "template_category_update")


@dataclass
class PreferenceUpdate:
    """A `user_preferences` change: the user stopped or resumed the business's marketing messages
    in WhatsApp itself (EXTERNAL_APIS.md F5, "Opt-out")."""

    channel: str
    account_id: str
    contact_key: str
    phone_e164: str | None
    name: str | None
    category: str  # marketing_messages
    value: str  # stop | resume
    timestamp: datetime | None


PREFERENCE_VALUES = ("stop", "resume")


@dataclass
class ParsedWebhook:
    channel_accounts: set[tuple[str, str]] = field(default_factory=set)
    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    # Template webhooks name the WABA, not a phone number: the receiver maps it to the accounts.
    template_updates: list[TemplateUpdate] = field(default_factory=list)
    preferences: list[PreferenceUpdate] = field(default_factory=list)


def _obj(v: Any, what: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise UnknownShape(f"{what} must be an object")
    return v


def _list(v: Any, what: str) -> list[Any]:
    if v is None:
        return []
    if not isinstance(v, list):
        raise UnknownShape(f"{what} must be a list")
    return v


def _str(v: Any, what: str) -> str:
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    if not isinstance(v, str) or not v or len(v) > 256:
        raise UnknownShape(f"{what} must be a non-empty string")
    return v


def _text(v: Any) -> str | None:
    return v[:MAX_TEXT] if isinstance(v, str) else None


def _ts_seconds(v: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(v), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _ts_millis(v: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(v) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _first_error(errors: Any) -> tuple[str | None, str | None]:
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        e = errors[0]
        details = e.get("error_data", {}).get("details") if isinstance(e.get("error_data"), dict) else None
        msg = details or e.get("message") or e.get("title")
        return (str(e["code"]) if "code" in e else None, _text(msg))
    return None, None


def parse_whatsapp(data: Any) -> ParsedWebhook:
    data = _obj(data, "body")
    if data.get("object") != "whatsapp_business_account":
        raise UnknownShape("object must be 'whatsapp_business_account'")
    out = ParsedWebhook()
    entries = _list(data.get("entry"), "entry")
    if not entries:
        raise UnknownShape("entry must not be empty")
    for entry in entries:
        for change in _list(_obj(entry, "entry[]").get("changes"), "entry[].changes"):
            change = _obj(change, "changes[]")
            if change.get("field") in TEMPLATE_FIELDS:
                waba = _str(entry.get("id"), "entry[].id")
                value = _obj(change.get("value"), "changes[].value")
                out.template_updates.append(TemplateUpdate(waba, str(change["field"]), value))
                continue
            if change.get("field") not in ("messages", "user_preferences"):
                continue  # account updates and the like: valid, not ours
            value = _obj(change.get("value"), "changes[].value")
            metadata = _obj(value.get("metadata"), "value.metadata")
            account = _str(metadata.get("phone_number_id"), "metadata.phone_number_id")
            out.channel_accounts.add(("whatsapp", account))
            names: dict[str, str] = {}
            for c in _list(value.get("contacts"), "value.contacts"):
                if isinstance(c, dict) and isinstance(c.get("wa_id"), str):
                    prof = c.get("profile")
                    if isinstance(prof, dict) and isinstance(prof.get("name"), str):
                        names[c["wa_id"]] = prof["name"][:200]
            if change.get("field") == "user_preferences":
                for p in _list(value.get("user_preferences"), "value.user_preferences"):
                    if (pref := _wa_preference(_obj(p, "user_preferences[]"), account, names)) is not None:
                        out.preferences.append(pref)
                continue
            for m in _list(value.get("messages"), "value.messages"):
                out.messages.append(_wa_message(_obj(m, "messages[]"), account, names))
            for s in _list(value.get("statuses"), "value.statuses"):
                s = _obj(s, "statuses[]")
                code, msg = _first_error(s.get("errors"))
                status = _str(s.get("status"), "statuses[].status")
                cb = s.get("biz_opaque_callback_data")
                out.statuses.append(
                    StatusUpdate(
                        channel="whatsapp",
                        account_id=account,
                        provider_message_id=_str(s.get("id"), "statuses[].id"),
                        status=status,
                        timestamp=_ts_seconds(s.get("timestamp")),
                        error_code=code,
                        error_message=msg,
                        callback_data=cb if isinstance(cb, str) else None,
                    )
                )
    return out


def _wa_preference(p: dict[str, Any], account: str, names: dict[str, str]) -> PreferenceUpdate | None:
    """A marketing stop/resume; other categories or values (none documented today) are ignored."""
    wa_id = _str(p.get("wa_id"), "user_preferences[].wa_id")
    phone = normalize_wa_id(wa_id)
    category = p.get("category")
    value = str(p.get("value") or "").strip().lower()
    if category != "marketing_messages" or value not in PREFERENCE_VALUES:
        return None
    return PreferenceUpdate(
        channel="whatsapp",
        account_id=account,
        contact_key=phone.key,
        phone_e164=phone.e164,
        name=names.get(wa_id),
        category=category,
        value=value,
        timestamp=_ts_seconds(p.get("timestamp")),
    )


def _wa_message(m: dict[str, Any], account: str, names: dict[str, str]) -> InboundMessage:
    sender = _str(m.get("from"), "messages[].from")
    phone = normalize_wa_id(sender)
    mtype = _str(m.get("type"), "messages[].type")
    text: str | None = None
    media: dict[str, Any] | None = None
    payload: dict[str, Any] = {"from": sender}
    if isinstance(m.get("context"), dict):
        payload["context"] = {k: m["context"].get(k) for k in ("id", "from") if k in m["context"]}
    body: dict[str, Any] = found if isinstance(found := m.get(mtype), dict) else {}
    if mtype == "text":
        text = _text(body.get("body"))
    elif mtype in MEDIA_TYPES:
        media = {
            k: body[k]
            for k in ("id", "mime_type", "sha256", "filename", "voice", "animated")
            if k in body and isinstance(body[k], str | bool | int)
        }
        text = _text(body.get("caption"))
    elif mtype == "location":
        payload["location"] = {
            k: body.get(k) for k in ("latitude", "longitude", "name", "address") if k in body
        }
        text = _text(body.get("name") or body.get("address"))
    elif mtype == "interactive":
        kind = body.get("type")
        reply: dict[str, Any] = (
            found if isinstance(kind, str) and isinstance(found := body.get(kind), dict) else {}
        )
        payload["interactive"] = {"type": kind, "id": reply.get("id")}
        text = _text(reply.get("title"))
    elif mtype == "button":
        payload["button"] = {"payload": body.get("payload")}
        text = _text(body.get("text"))
    elif mtype == "reaction":
        payload["reaction"] = {"message_id": body.get("message_id")}
        text = _text(body.get("emoji"))
    else:
        code, msg = _first_error(m.get("errors"))
        payload["unsupported"] = {"type": mtype, "code": code, "message": msg}
        mtype = "unsupported"
    return InboundMessage(
        channel="whatsapp",
        account_id=account,
        sender=sender,
        contact_key=phone.key,
        phone_e164=phone.e164,
        name=names.get(sender),
        provider_message_id=_str(m.get("id"), "messages[].id"),
        timestamp=_ts_seconds(m.get("timestamp")),
        type=mtype[:20],
        text=text,
        media=media,
        payload=payload,
    )


def parse_meta(data: Any) -> ParsedWebhook:
    """Instagram (`object: instagram`) and Messenger (`object: page`) `entry[].messaging[]`."""
    data = _obj(data, "body")
    obj = data.get("object")
    if obj not in ("instagram", "page"):
        raise UnknownShape("object must be 'instagram' or 'page'")
    channel = "instagram" if obj == "instagram" else "messenger"
    out = ParsedWebhook()
    entries = _list(data.get("entry"), "entry")
    if not entries:
        raise UnknownShape("entry must not be empty")
    for entry in entries:
        entry = _obj(entry, "entry[]")
        account = _str(entry.get("id"), "entry[].id")
        out.channel_accounts.add((channel, account))
        for ev in _list(entry.get("messaging"), "entry[].messaging"):
            ev = _obj(ev, "messaging[]")
            sender = _str(_obj(ev.get("sender"), "messaging[].sender").get("id"), "sender.id")
            ts = _ts_millis(ev.get("timestamp"))
            msg = ev.get("message")
            if isinstance(msg, dict):
                if msg.get("is_echo"):
                    continue  # our own replies coming back: never answer them
                out.messages.append(_meta_message(channel, account, sender, ts, msg))
            elif isinstance(ev.get("postback"), dict):
                pb = ev["postback"]
                mid = pb.get("mid") or f"postback:{sender}:{ev.get('timestamp')}"
                out.messages.append(
                    InboundMessage(
                        channel=channel,
                        account_id=account,
                        sender=sender,
                        contact_key=sender,
                        phone_e164=None,
                        name=None,
                        provider_message_id=_str(mid, "postback.mid"),
                        timestamp=ts,
                        type="postback",
                        text=_text(pb.get("title")),
                        payload={"from": sender, "postback": {"payload": pb.get("payload")}},
                    )
                )
            elif isinstance(ev.get("reaction"), dict):
                r = ev["reaction"]
                out.messages.append(
                    InboundMessage(
                        channel=channel,
                        account_id=account,
                        sender=sender,
                        contact_key=sender,
                        phone_e164=None,
                        name=None,
                        provider_message_id=f"reaction:{r.get('mid')}:{ev.get('timestamp')}"[:128],
                        timestamp=ts,
                        type="reaction",
                        text=_text(r.get("emoji")),
                        payload={"from": sender, "reaction": {"message_id": r.get("mid")}},
                    )
                )
            # read/delivery receipts and other events: nothing to store
    return out


def _meta_message(
    channel: str, account: str, sender: str, ts: datetime | None, msg: dict[str, Any]
) -> InboundMessage:
    mtype = "text"
    media = None
    payload: dict[str, Any] = {"from": sender}
    atts = msg.get("attachments")
    if isinstance(atts, list) and atts and isinstance(atts[0], dict):
        a = atts[0]
        mtype = {"file": "document"}.get(str(a.get("type")), str(a.get("type") or "file"))[:20]
        p: dict[str, Any] = found if isinstance(found := a.get("payload"), dict) else {}
        media = {"url": p.get("url")} if isinstance(p.get("url"), str) else {}
    if isinstance(msg.get("quick_reply"), dict):
        payload["quick_reply"] = {"payload": msg["quick_reply"].get("payload")}
    if isinstance(msg.get("reply_to"), dict):
        payload["reply_to"] = msg["reply_to"]
    return InboundMessage(
        channel=channel,
        account_id=account,
        sender=sender,
        contact_key=sender,
        phone_e164=None,
        name=None,
        provider_message_id=_str(msg.get("mid"), "message.mid"),
        timestamp=ts,
        type=mtype,
        text=_text(msg.get("text")),
        media=media,
        payload=payload,
    )
