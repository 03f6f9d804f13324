"""Infobip SMS API v3 (``POST /sms/3/messages``)."""

from __future__ import annotations

from lynsms.providers.infobip.adapter import InfobipConfig, InfobipProvider

__all__ = ["InfobipConfig", "InfobipProvider"]
