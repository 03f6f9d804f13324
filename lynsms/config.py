"""Settings: ``LYNSMS_*`` environment variables over the TOML file over the defaults.

The TOML file is ``$LYNSMS_CONFIG``, else ``./lynsms.toml`` when present
(API.md §9). Nested settings have environment overrides with ``__``:
``LYNSMS_ROUTING__PROVIDER_TIMEOUT=5``. Every variable is listed in the README.
"""

from __future__ import annotations

import os
import tomllib
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./lynsms.db"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerSettings(_Section):
    public_url: str = "http://127.0.0.1:8080"  # base URL providers use for callbacks and media


class RouteSettings(_Section):
    id: int
    name: str = ""
    countries: list[str] = Field(default_factory=lambda: ["*"])
    providers: list[str]
    priority: int = 10


class RoutingSettings(_Section):
    breaker_failures: int = Field(default=5, ge=1)
    breaker_cooldown: float = Field(default=30.0, gt=0)
    provider_timeout: float = Field(default=10.0, gt=0)
    send_budget: float = Field(default=5.0, gt=0)  # seconds a request may spend dispatching


class PriceSettings(_Section):
    default: Decimal = Decimal("0.0500")
    countries: dict[str, Decimal] = Field(default_factory=dict)
    mms: Decimal = Decimal("0.0200")


class WebhookSettings(_Section):
    retry_schedule: list[float] = Field(
        default_factory=lambda: [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0]
    )
    timeout: float = Field(default=15.0, gt=0)  # seconds per attempt, connect to last byte


class SimulatorSettings(_Section):
    delivery_delay: float = Field(default=1.0, ge=0)


class WorkerSettings(_Section):
    # Longest sleep between looks for due work. Unset: 0.2 s on SQLite, 2 s on PostgreSQL,
    # where LISTEN/NOTIFY wakes the worker as soon as messages or events are written.
    poll_interval: float | None = Field(default=None, gt=0)
    # SIGTERM: stop claiming at once; work in flight gets this long to finish (its lease
    # hands whatever is left to another worker).
    shutdown_timeout: float = Field(default=15.0, gt=0)
    # Provider calls in flight per process (lanes); the worker commits every 2x this many.
    concurrency: int = Field(default=64, ge=1, le=1024)


class DatabaseSettings(_Section):
    batch_max: int = Field(default=500, ge=1)  # writes committed together (group commit)
    sqlite_synchronous: str = (
        "FULL"  # FULL: every commit survives power loss; NORMAL: process crash only
    )
    pool_size: int = Field(default=10, ge=1)
    # Seconds a SQLite writer of another process waits for the lock (the API process's own
    # writers queue in-process). Operator commands default to 60: a CLI import or grant
    # while `lynsms serve` is busy must wait, not fail.
    sqlite_busy_timeout: float = Field(default=15.0, gt=0)

    @field_validator("sqlite_synchronous")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ValueError("must be OFF, NORMAL, FULL or EXTRA")
        return value.upper()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LYNSMS_", env_nested_delimiter="__", extra="ignore"
    )

    database_url: str = DEFAULT_DATABASE_URL
    # Rate-limit counters shared by every process and node (redis:// or rediss://); unset, each
    # process counts alone. Unreachable, each process counts alone until it answers again.
    redis_url: str | None = None
    config: Path | None = None
    webhooks_allow_private: bool = False
    log_level: str = "INFO"
    log_json: bool = True
    media_dir: Path = Path("./media")
    # Derives every webhook endpoint's signing secret (never stored). Set the same value on
    # every node; unset, a random key is created in ``secret_key_file`` on first use.
    secret_key: str | None = None
    secret_key_file: Path = Path("./lynsms.secret")
    run_worker: bool = True  # serve runs the dispatcher in-process (`--no-worker` sets 0)
    key_cache_seconds: float = Field(default=60.0, ge=0)  # 0 disables the API-key cache
    # Requests per minute allowed to an API key created without its own rate_limit_per_minute.
    rate_limit_per_minute: int = Field(default=1200, ge=1)

    server: ServerSettings = Field(default_factory=ServerSettings)
    providers: dict[str, dict[str, Any]] = Field(default_factory=dict)
    routes: list[RouteSettings] = Field(default_factory=list)
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    prices: PriceSettings = Field(default_factory=PriceSettings)
    costs: dict[str, dict[str, Decimal]] = Field(default_factory=dict)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    simulator: SimulatorSettings = Field(default_factory=SimulatorSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSource(settings_cls))

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


class _TomlSource(PydanticBaseSettingsSource):
    """Reads the TOML file named by ``LYNSMS_CONFIG`` (or ``./lynsms.toml``)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = config_path()
        if path is None:
            return {}
        with path.open("rb") as handle:
            return tomllib.load(handle)


def config_path() -> Path | None:
    named = os.environ.get("LYNSMS_CONFIG")
    if named:
        return Path(named)
    default = Path("lynsms.toml")
    return default if default.exists() else None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
