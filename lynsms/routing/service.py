"""Which providers a message goes to, in which order (seed 001, API.md §4 and §10).

``route_id`` forces a route; otherwise the cheapest route covering the
destination country, then by ``priority``, then by ``id``. ``provider`` puts
that provider first. Test keys, and live keys while no real provider is
configured, go to the built-in simulator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from lynsms.config import RouteSettings, Settings
from lynsms.exceptions import ValidationFailed
from lynsms.kit.money import to_units
from lynsms.providers.base import Provider
from lynsms.routing.breaker import Breaker
from lynsms.routing.throttle import Throttle, rates_from

SIMULATOR = "simulator"
PROVIDER_NAMES = ("twilio", "sinch", "infobip", "clicksend")
# MMS (API.md §8): the providers that can carry one, and where it may go.
MMS_PROVIDERS = ("twilio", "sinch", "clicksend")
MMS_COUNTRIES = frozenset({"US", "CA"})


@dataclass(frozen=True, slots=True)
class Chain:
    route_id: int | None
    providers: tuple[str, ...]


_SIMULATED = Chain(route_id=None, providers=(SIMULATOR,))


class Router:
    def __init__(self, settings: Settings, providers: Mapping[str, Provider]) -> None:
        self.providers = dict(providers)
        self.breaker = Breaker(settings.routing.breaker_failures, settings.routing.breaker_cooldown)
        self.throttle = Throttle(rates_from(settings.providers), settings.redis_url)
        self.public_url = settings.server.public_url.rstrip("/")
        self.real = tuple(name for name in self.providers if name != SIMULATOR)
        self.routes = {route.id: route for route in settings.routes}
        self._costs = {
            name: {code.upper(): to_units(v) for code, v in table.items()}
            for name, table in settings.costs.items()
        }

    def callback_url(self, provider: str) -> str | None:
        """Where ``provider`` reports delivery (the adapter adds its ``?token=``)."""
        if provider == SIMULATOR:
            return None
        return f"{self.public_url}/callbacks/{provider}/status"

    @property
    def simulated(self) -> bool:
        """Live traffic goes to the simulator: no real provider is configured."""
        return not self.real

    def chain(
        self,
        *,
        test: bool,
        country: str,
        provider: str | None = None,
        route_id: int | None = None,
        media: int = 0,
        text: bool = True,
    ) -> Chain:
        """``media``: how many media an MMS carries (0 for an SMS); ``text``: whether it has a
        body. An MMS goes only to providers that carry it (failover stays among them); none:
        422 ``mms_not_supported``."""
        if test or self.simulated:
            return _SIMULATED
        if provider is not None and provider not in self.real:
            raise ValidationFailed(
                f"Provider '{provider}' is not configured; configured: {', '.join(self.real)}.",
                code="unknown_provider",
                param="provider",
            )
        route = self._route(country, route_id)
        names = tuple(route.providers) if route else self.real
        names = tuple(name for name in names if name in self.providers)
        if provider is not None:
            names = (provider, *(name for name in names if name != provider))
        if media:
            names = self._mms_capable(names, media, text, provider, route_id)
        return Chain(route_id=route.id if route else None, providers=names)

    def _mms_capable(
        self,
        names: tuple[str, ...],
        media: int,
        text: bool,
        provider: str | None,
        route_id: int | None,
    ) -> tuple[str, ...]:
        capable = tuple(name for name in names if self.carries(name, media, text))
        if provider is not None and provider not in capable:
            raise _no_mms(
                f"Provider '{provider}' cannot send this MMS ({media} media"
                + ("" if text else ", no body")
                + ").",
                "provider",
            )
        if not capable:
            where = f"Route {route_id}" if route_id is not None else "No route"
            raise _no_mms(
                f"{where} has no provider that can send this MMS ({media} media"
                + ("" if text else ", no body")
                + ").",
                "route_id" if route_id is not None else "media_ids",
            )
        return capable

    def carries(self, name: str, media: int, text: bool = True) -> bool:
        """Whether provider ``name`` sends an MMS of ``media`` media in one message (Sinch and
        ClickSend take one media per message, Twilio ten; ClickSend needs a body)."""
        adapter = self.providers.get(name)
        if adapter is None or not getattr(adapter, "supports_mms", False):
            return False
        if not text and getattr(adapter, "mms_needs_text", False):
            return False
        return media <= int(getattr(adapter, "max_media", 1))

    def _route(self, country: str, route_id: int | None) -> RouteSettings | None:
        if route_id is not None:
            route = self.routes.get(route_id)
            if route is None:
                raise ValidationFailed(
                    f"No route {route_id}.", code="unknown_route", param="route_id"
                )
            if not _covers(route, country):
                raise ValidationFailed(
                    f"Route {route_id} does not cover {country}.",
                    code="route_not_applicable",
                    param="route_id",
                )
            return route
        candidates = [route for route in self.routes.values() if _covers(route, country)]
        if not candidates:
            return None
        return min(candidates, key=lambda route: self._order(route, country))

    def _order(self, route: RouteSettings, country: str) -> tuple[int, int, int, int]:
        cost = self.cost(route.providers[0], country) if route.providers else None
        return (cost is None, cost or 0, route.priority, route.id)

    def cost(self, provider: str, country: str) -> int | None:
        """What ``provider`` charges us per segment to ``country`` (units), if configured."""
        table = self._costs.get(provider)
        if table is None:
            return None
        return table.get(country, table.get("DEFAULT"))


def _no_mms(message: str, param: str) -> ValidationFailed:
    return ValidationFailed(message, code="mms_not_supported", param=param)


def _covers(route: RouteSettings, country: str) -> bool:
    return "*" in route.countries or country in {c.upper() for c in route.countries}
