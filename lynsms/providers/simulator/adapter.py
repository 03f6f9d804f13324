"""The built-in ``simulator`` provider: instant acceptance, a delivery report a moment later.

Test keys always use it; live keys use it while no real provider is
configured. Like Twilio's test credentials, magic destination numbers make
every path testable:

==============  ==========================================================
+15005550001    refused for good: invalid number (``rejected``) → failed
+15005550002    refused for good: recipient blocked (``blacklisted``) → failed
+15005550003    always fails retryably (provider unavailable) → stays queued
+15005550004    always times out (retryable) → stays queued
+15005550007    accepted, then reported ``undelivered`` (carrier error 30003)
+15005550008    accepted, never reported (stays ``sent``)
anything else   accepted, then reported ``delivered``
==============  ==========================================================
"""

from __future__ import annotations

from lynsms.kit.ids import new_id
from lynsms.providers.base import (
    Blacklisted,
    CallbackRejected,
    CallbackRequest,
    DeliveryReport,
    InboundSms,
    OutboundSms,
    ProviderTimeout,
    ProviderUnavailable,
    Rejected,
    SendResult,
)

INVALID = "+15005550001"
BLOCKED = "+15005550002"
UNAVAILABLE = "+15005550003"
TIMEOUT = "+15005550004"
UNDELIVERABLE = "+15005550007"
SILENT = "+15005550008"

MAGIC_NUMBERS = {
    INVALID: "rejected: invalid number",
    BLOCKED: "blacklisted: recipient blocked",
    UNAVAILABLE: "retryable: provider unavailable",
    TIMEOUT: "retryable: timeout",
    UNDELIVERABLE: "delivery report: undelivered",
    SILENT: "no delivery report",
}


class SimulatorProvider:
    name = "simulator"
    supports_mms = True
    max_media = 10  # as Twilio

    async def send(self, sms: OutboundSms) -> SendResult:
        if sms.to == INVALID:
            raise Rejected("The 'To' number is not a valid phone number.", provider_code="21211")
        if sms.to == BLOCKED:
            raise Blacklisted("The recipient has blocked this sender.", provider_code="21610")
        if sms.to == UNAVAILABLE:
            raise ProviderUnavailable("Simulated provider outage.", http_status=503)
        if sms.to == TIMEOUT:
            raise ProviderTimeout("Simulated timeout.")
        # Time-ordered like our own ids (new ones land together in the index, as a real
        # provider's would not: that cost belongs to the provider path, not the sandbox).
        return SendResult(provider_message_id=new_id("sim"), raw_status="accepted")

    def redact_values(self) -> list[str]:
        return []

    @staticmethod
    def report_for(provider_message_id: str, to: str) -> DeliveryReport | None:
        """The report the simulator sends for a message, or None if it never reports."""
        if to == SILENT:
            return None
        if to == UNDELIVERABLE:
            return DeliveryReport(
                provider_message_id,
                "undelivered",
                "undelivered",
                error_code="30003",
                error_message="Unreachable destination handset.",
            )
        return DeliveryReport(provider_message_id, "delivered", "delivered")

    def parse_status_callback(self, request: CallbackRequest) -> list[DeliveryReport]:
        raise CallbackRejected("the simulator reports in-process")

    def parse_inbound_callback(self, request: CallbackRequest) -> list[InboundSms]:
        raise CallbackRejected("the simulator has no inbound callbacks")
