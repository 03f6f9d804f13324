"""ORM models, one module per table; importing this package registers every table."""

from lynsms.models.account import Account
from lynsms.models.api_key import ApiKey
from lynsms.models.base import Base, UTCDateTime
from lynsms.models.ledger_entry import LedgerEntry
from lynsms.models.message import Message
from lynsms.models.message_attempt import MessageAttempt
from lynsms.models.opt_out import OptOut
from lynsms.models.sender import Sender

__all__ = [
    "Account",
    "ApiKey",
    "Base",
    "LedgerEntry",
    "Message",
    "MessageAttempt",
    "OptOut",
    "Sender",
    "UTCDateTime",
]
