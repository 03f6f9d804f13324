"""The message lifecycle as an explicit state machine; moves are monotonic.

A late or repeated report can never move a message backwards: ``allowed``
lists every legal move, and everything else is ignored.
"""

from __future__ import annotations

SCHEDULED = "scheduled"  # accepted with a future send_at; the dispatcher queues it then
QUEUED = "queued"  # accepted and waiting for a provider to take it (first try or a retry)
SENT = "sent"  # a provider took it; waiting for the delivery report
DELIVERED = "delivered"  # the handset has it (final)
UNDELIVERED = "undelivered"  # the carrier reported it could not be delivered (final)
FAILED = "failed"  # refused for good by a provider, or exhausted (final; refunded)
EXPIRED = "expired"  # its validity ran out before any provider took it (final; refunded)
CANCELLED = "cancelled"  # cancelled before sending (final; refunded)
RECEIVED = "received"  # an inbound message (final)

ALL = (SCHEDULED, QUEUED, SENT, DELIVERED, UNDELIVERED, FAILED, EXPIRED, CANCELLED, RECEIVED)
REFUNDED = frozenset({FAILED, EXPIRED, CANCELLED})

_MOVES: dict[str, frozenset[str]] = {
    SCHEDULED: frozenset({QUEUED, SENT, FAILED, EXPIRED, CANCELLED}),
    QUEUED: frozenset({SENT, FAILED, EXPIRED, CANCELLED}),
    SENT: frozenset({DELIVERED, UNDELIVERED, FAILED}),
}


def allowed(current: str, target: str) -> bool:
    """Whether a message in ``current`` may move to ``target``."""
    return target in _MOVES.get(current, frozenset())
