"""ORM models, one module per table; importing this package registers every table."""

from lynsms.models.account import Account
from lynsms.models.api_key import ApiKey
from lynsms.models.base import Base, UTCDateTime
from lynsms.models.campaign import Campaign, CampaignRecipient
from lynsms.models.contact import Contact
from lynsms.models.contact_tag import ContactTag
from lynsms.models.early_report import EarlyReport
from lynsms.models.event import Event
from lynsms.models.idempotency_key import IdempotencyKey
from lynsms.models.ledger_entry import LedgerEntry
from lynsms.models.lightningmsg_secret import LightningmsgSecret
from lynsms.models.media import Media
from lynsms.models.message import Message
from lynsms.models.message_attempt import MessageAttempt
from lynsms.models.opt_out import OptOut
from lynsms.models.package import Package
from lynsms.models.package_use import PackageUse
from lynsms.models.sender import Sender
from lynsms.models.sinch_batch import SinchBatch, SinchBatchMessage
from lynsms.models.template import Template
from lynsms.models.twilio_status_callback import TwilioStatusCallback
from lynsms.models.usage_rollup import UsageRollup, UsageRollupDirty, UsageRollupState
from lynsms.models.webhook_attempt import WebhookAttempt
from lynsms.models.webhook_delivery import WebhookDelivery
from lynsms.models.webhook_endpoint import WebhookEndpoint

__all__ = [
    "Account",
    "ApiKey",
    "Base",
    "Campaign",
    "CampaignRecipient",
    "Contact",
    "ContactTag",
    "EarlyReport",
    "Event",
    "IdempotencyKey",
    "LedgerEntry",
    "LightningmsgSecret",
    "Media",
    "Message",
    "MessageAttempt",
    "OptOut",
    "Package",
    "PackageUse",
    "Sender",
    "SinchBatch",
    "SinchBatchMessage",
    "Template",
    "TwilioStatusCallback",
    "UTCDateTime",
    "UsageRollup",
    "UsageRollupDirty",
    "UsageRollupState",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
