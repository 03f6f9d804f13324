"""ClickSend REST v3 (``POST /v3/sms/send``, ``POST /v3/mms/send``)."""

from __future__ import annotations

from lynsms.providers.clicksend.adapter import ClickSendConfig, ClickSendProvider

__all__ = ["ClickSendConfig", "ClickSendProvider"]
