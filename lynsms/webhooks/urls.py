"""Webhook URLs: http(s) only, and never towards internal addresses (SSRF).

Checked at creation and again before every delivery (DNS answers change).
Loopback and private ranges (RFC 1918, fc00::/7, 100.64.0.0/10, 0.0.0.0/8 and
the other non-global ranges) are refused unless the operator allows them
(``LYNSMS_WEBHOOKS_ALLOW_PRIVATE``, for local development); link-local
(169.254.0.0/16, fe80::/10, where cloud metadata lives), multicast,
unspecified, reserved and broadcast addresses are refused always.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
SCHEMES = ("http", "https")
_BROADCAST = ipaddress.IPv4Address("255.255.255.255")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class UnsafeUrl(Exception):
    """The URL must not be called; the message says why."""


def check_shape(url: str) -> str:
    """The URL itself: an absolute http(s) URL with a host; raises ``ValueError``."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (parses the port: raises on a bad one)
    except ValueError as exc:
        raise ValueError("must be a valid http or https URL") from exc
    if parts.scheme.lower() not in SCHEMES:
        raise ValueError("must be an http or https URL")
    if not parts.hostname:
        raise ValueError("must name a host")
    if parts.username or parts.password:
        raise ValueError("must not carry credentials")
    return url


def refusal(address: IPAddress, allow_private: bool) -> str | None:
    """Why ``address`` may not be called, or None when it may."""
    address = _embedded_ipv4(address)
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return None if allow_private else "a loopback address"
    if address.is_reserved or address == _BROADCAST:
        return "a reserved address"
    if not address.is_global:
        return None if allow_private else "a private address"
    return None


def _embedded_ipv4(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, NAT64), else the address."""
    if isinstance(address, ipaddress.IPv4Address):
        return address
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (an IP literal is itself)."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise UnsafeUrl(f"the host {host} could not be resolved") from exc
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


async def check_destination(url: str, allow_private: bool) -> None:
    """Raise ``UnsafeUrl`` unless every address of the URL's host may be called."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    addresses = await resolve(host, port)
    if not addresses:
        raise UnsafeUrl(f"the host {host} has no address")
    for address in addresses:
        reason = refusal(address, allow_private)
        if reason is not None:
            raise UnsafeUrl(f"the host {host} resolves to {reason}")
