"""Builds the configured provider adapters from ``[providers.<name>]`` sections."""

from __future__ import annotations

import importlib
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError

from lynsms.config import Settings
from lynsms.providers.base import Provider
from lynsms.providers.simulator import SimulatorProvider

# name -> (module, config class, provider class)
ADAPTERS = {
    "twilio": ("lynsms.providers.twilio", "TwilioConfig", "TwilioProvider"),
    "sinch": ("lynsms.providers.sinch", "SinchConfig", "SinchProvider"),
    "infobip": ("lynsms.providers.infobip", "InfobipConfig", "InfobipProvider"),
    "clicksend": ("lynsms.providers.clicksend", "ClickSendConfig", "ClickSendProvider"),
}

# Keys of a provider section that the router reads, not the adapter (routing/throttle.py).
ROUTING_KEYS = frozenset({"rate"})


class ProviderConfigError(ValueError):
    """A ``[providers.<name>]`` section is unknown or invalid."""


def build_providers(settings: Settings, client: httpx.AsyncClient) -> dict[str, Provider]:
    providers: dict[str, Provider] = {"simulator": SimulatorProvider()}
    for name, section in settings.providers.items():
        providers[name] = _build(name, section, client, settings.routing.provider_timeout)
    return providers


def _build(
    name: str, section: dict[str, Any], client: httpx.AsyncClient, timeout: float
) -> Provider:
    if name not in ADAPTERS:
        raise ProviderConfigError(
            f"[providers.{name}]: unknown provider; one of {', '.join(ADAPTERS)}"
        )
    section = {key: value for key, value in section.items() if key not in ROUTING_KEYS}
    module_name, config_name, provider_name = ADAPTERS[name]
    module = importlib.import_module(module_name)
    config_class: type[BaseModel] = getattr(module, config_name)
    try:
        config = config_class.model_validate(section)
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors())
        raise ProviderConfigError(f"[providers.{name}]: invalid or missing {fields}") from None
    provider: Provider = getattr(module, provider_name)(config, client, timeout=timeout)
    return provider
