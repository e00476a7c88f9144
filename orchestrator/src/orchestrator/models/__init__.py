"""Every model, imported from one place so none can be missed by Alembic or the drift check."""

from .abandoned_checkout import AbandonedCheckout, CheckoutPoll
from .agent_run import AgentRun
from .analytics import AnalyticsHourly, AnalyticsTerm, ConversationResponseTime
from .audit_log import AuditLog
from .auth import AuthSession, AuthToken, LoginThrottle, UsedRefreshToken
from .base import Base
from .campaign import Campaign, CampaignRecipient, CustomerTag
from .cart import Cart
from .catalog_sync import CatalogSync
from .channel_account import ChannelAccount
from .channel_identity import ChannelIdentity
from .checkout import Checkout
from .consent import ConsentEvent, CustomerConsent
from .conversation import ChatConversation
from .coupon import Coupon
from .credential import Credential
from .customer import Customer
from .customer_order import CustomerOrder
from .event import Event
from .handoff import Handoff
from .inbound_event import InboundEvent
from .message import ChatMessage
from .order_attribution import OrderAttribution
from .proactive_message import ProactiveMessage
from .product import Product
from .tenant import Tenant
from .user import User
from .webhook_rejection import WebhookRejection
from .whatsapp_template import WhatsAppTemplate

__all__ = [
    "Campaign",
    "CampaignRecipient",
    "CustomerTag",
    "AbandonedCheckout",
    "CheckoutPoll",
    "ConsentEvent",
    "CustomerConsent",
    "ProactiveMessage",
    "WhatsAppTemplate",
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
    "Cart",
    "Checkout",
    "Coupon",
    "OrderAttribution",
    "CatalogSync",
    "ChannelAccount",
    "ChannelIdentity",
    "ChatConversation",
    "ChatMessage",
    "Credential",
    "Customer",
    "CustomerOrder",
    "Event",
    "InboundEvent",
    "Product",
    "Tenant",
    "User",
    "UsedRefreshToken",
    "WebhookRejection",
]
