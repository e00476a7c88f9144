"""Every model, imported from one place so none can be missed by Alembic or the drift check."""

from .agent_run import AgentRun
from .analytics import AnalyticsHourly, AnalyticsTerm, ConversationResponseTime
from .audit_log import AuditLog
from .auth import AuthSession, AuthToken, LoginThrottle, UsedRefreshToken
from .base import Base
from .catalog_sync import CatalogSync
from .channel_account import ChannelAccount
from .channel_identity import ChannelIdentity
from .conversation import ChatConversation
from .credential import Credential
from .customer import Customer
from .event import Event
from .handoff import Handoff
from .inbound_event import InboundEvent
from .message import ChatMessage
from .product import Product
from .tenant import Tenant
from .user import User
from .webhook_rejection import WebhookRejection

__all__ = [
    "LoginThrottle",
    "Handoff",
    "ConversationResponseTime",
    "AuthToken",
    "AuthSession",
    "AnalyticsTerm",
    "AnalyticsHourly",
    "AgentRun",
    "AuditLog",
    "Base",
    "CatalogSync",
    "ChannelAccount",
    "ChannelIdentity",
    "ChatConversation",
    "ChatMessage",
    "Credential",
    "Customer",
    "Event",
    "InboundEvent",
    "Product",
    "Tenant",
    "User",
    "UsedRefreshToken",
    "WebhookRejection",
]
