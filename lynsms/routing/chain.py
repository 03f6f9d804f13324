"""Walking a provider chain (seed 001): retryable errors hand off, hard errors stop.

Providers whose circuit is open, or whose throughput limit cannot give a slot
before the deadline, are skipped without an attempt. Every attempt is recorded. The walk never starts a new attempt after
``deadline`` (the request's time budget); what is left is the worker's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from lynsms.kit.logging import get_logger
from lynsms.kit.metrics import PROVIDER_ATTEMPTS, PROVIDER_LATENCY, child
from lynsms.providers.base import OutboundSms, Provider, ProviderError, ProviderUnavailable
from lynsms.routing.service import Chain, Router

log = get_logger("lynsms.routing")


@dataclass(slots=True)
class Attempt:
    provider: str
    outcome: str  # accepted | retryable | failed
    latency_ms: int
    provider_message_id: str | None = None
    error: ProviderError | None = None


@dataclass(slots=True)
class Outcome:
    status: str  # sent | failed | queued (retryable exhaustion or budget spent)
    route_id: int | None
    provider: str | None = None
    provider_message_id: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    error: ProviderError | None = None
    throttled: bool = False  # a provider was skipped for its throughput limit: retry soon


async def walk(router: Router, chain: Chain, sms: OutboundSms, deadline: float) -> Outcome:
    """Hand ``sms`` to each provider of ``chain`` in turn until one takes it or refuses it."""
    outcome = Outcome(status="queued", route_id=chain.route_id)
    for name in chain.providers:
        if outcome.attempts and time.monotonic() >= deadline:
            break
        if not router.breaker.allow(name):
            outcome.error = outcome.error or ProviderUnavailable(f"{name}: circuit open")
            continue
        if not await router.throttle.take(name, deadline):
            outcome.throttled = True
            outcome.error = outcome.error or ProviderUnavailable(f"{name}: throughput limit")
            continue
        message = replace(sms, status_callback_url=router.callback_url(name))
        attempt = await _attempt(name, router.providers[name], message)
        _tell_breaker(router, attempt)
        outcome.attempts.append(attempt)
        outcome.provider = name
        if attempt.outcome == "accepted":
            outcome.status, outcome.provider_message_id = "sent", attempt.provider_message_id
            outcome.error = None
            return outcome
        outcome.error = attempt.error
        if attempt.outcome == "failed":
            outcome.status = "failed"
            return outcome
    return outcome


async def _attempt(name: str, provider: Provider, sms: OutboundSms) -> Attempt:
    started = time.monotonic()
    try:
        result = await provider.send(sms)
    except ProviderError as exc:
        return _record(
            Attempt(name, "retryable" if exc.retryable else "failed", _ms(started), error=exc)
        )
    except Exception as exc:  # an adapter bug must not lose the message: retry later
        log.error("provider adapter raised", provider=name, exc_info=exc)
        error = ProviderUnavailable(f"adapter error: {type(exc).__name__}")
        return _record(Attempt(name, "retryable", _ms(started), error=error))
    return _record(
        Attempt(name, "accepted", _ms(started), provider_message_id=result.provider_message_id)
    )


def _tell_breaker(router: Router, attempt: Attempt) -> None:
    if attempt.outcome == "retryable":
        router.breaker.failed(attempt.provider)
    else:
        router.breaker.succeeded(attempt.provider)


def _record(attempt: Attempt) -> Attempt:
    child(PROVIDER_ATTEMPTS, attempt.provider, attempt.outcome).inc()
    child(PROVIDER_LATENCY, attempt.provider).observe(attempt.latency_ms / 1000)
    return attempt


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
