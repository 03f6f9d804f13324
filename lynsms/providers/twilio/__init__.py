"""Twilio Programmable Messaging adapter."""

from lynsms.providers.twilio.adapter import TwilioConfig, TwilioProvider

__all__ = ["TwilioConfig", "TwilioProvider"]
