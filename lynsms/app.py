"""create_app(): middleware, exception handlers, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from lynsms.api import router as api_router
from lynsms.config import Settings, get_settings
from lynsms.conventions import idempotency
from lynsms.conventions.middleware import ConventionsMiddleware
from lynsms.database import Database
from lynsms.dialects.lightningmsg.endpoints import router as lightningmsg_router
from lynsms.dialects.sinch.endpoints import router as sinch_router
from lynsms.dialects.twilio.endpoints import router as twilio_router
from lynsms.exceptions import LynSMSError
from lynsms.kit import errors, openapi
from lynsms.kit.fastpath import ROUTES, FastPathMiddleware
from lynsms.kit.logging import get_logger
from lynsms.kit.middleware import RequestContextMiddleware
from lynsms.media.endpoints import public_router as media_public_router
from lynsms.providers.callbacks import router as callbacks_router
from lynsms.runtime import open_runtime
from lynsms.worker.runner import Worker

log = get_logger("lynsms.app")

DESCRIPTION = """Send, track and orchestrate SMS with one JSON API: routing across Twilio, Sinch,
Infobip and ClickSend with automatic fallback, per-segment billing, delivery tracking.

Authenticate with `Authorization: Bearer ds_live_…` (or `ds_test_…` for the sandbox).
Every response is an envelope: `{"success", "data" | "error", "meta": {"request_id"}}`.

Send `Idempotency-Key: <uuid>` on a POST or DELETE to retry it safely: for 24 hours the
first response is replayed (`Idempotent-Replayed: true`). Every authenticated response
carries `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` (epoch seconds),
`RateLimit-Policy` and `RateLimit`; over the key's limit, `429 rate_limited` with `Retry-After`."""


class LynSMSApp(FastAPI):
    """FastAPI whose hot routes (``kit.fastpath.ROUTES``) skip Starlette's outer layers
    (server-error, telemetry, body-limit and exception middleware, about a tenth of a send's
    CPU): they meet the same request context and conventions layers, and nothing else."""

    fast: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.fast is not None
            and scope["type"] == "http"
            and (scope["method"], scope["path"]) in ROUTES
        ):
            scope["app"] = self
            await self.fast(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, *, run_worker: bool | None = None) -> FastAPI:
    settings = settings or get_settings()
    run_worker = settings.run_worker if run_worker is None else run_worker

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with _runtime(app, settings, run_worker):
            yield

    app = LynSMSApp(
        title="LynSMS API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
        redoc_url=None,
    )
    app.add_middleware(FastPathMiddleware)  # inside the request context: ids, 413 and 415 apply
    app.add_middleware(ConventionsMiddleware)  # auth once, rate limit, idempotency: fast path too
    app.add_middleware(RequestContextMiddleware)
    app.fast = RequestContextMiddleware(ConventionsMiddleware(FastPathMiddleware(app.router)))
    app.add_exception_handler(LynSMSError, errors.handle_lynsms_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, errors.handle_validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, errors.handle_http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, errors.handle_unexpected)
    app.include_router(lightningmsg_router, include_in_schema=False)  # API.md §11, LightningMSG
    app.include_router(api_router)
    app.include_router(callbacks_router)
    app.include_router(media_public_router, include_in_schema=False)  # MMS media, no key
    app.include_router(twilio_router, include_in_schema=False)  # API.md §11, Twilio
    app.include_router(sinch_router, include_in_schema=False)  # API.md §11, Sinch XMS
    _operational_routes(app)
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """``/openapi.json`` and ``/docs``: the public API (``lynsms.api``) and nothing else."""

    def openapi_schema() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = openapi.build(
                title=app.title,
                version=app.version,
                description=DESCRIPTION,
                routes=api_router.routes,
                write_methods=idempotency.METHODS,
            )
        return app.openapi_schema

    return openapi_schema


@asynccontextmanager
async def _runtime(app: FastAPI, settings: Settings, run_worker: bool) -> AsyncIterator[None]:
    async with open_runtime(settings) as runtime:
        app.state.runtime, app.state.database = runtime, runtime.database
        app.state.key_cache = runtime.key_cache
        if runtime.router.simulated:
            log.warning("no provider configured: live messages go to the built-in simulator")
        worker = Worker(runtime) if run_worker else None
        if worker:
            worker.start()
        try:
            yield
        finally:
            if worker:
                await worker.stop()


def _operational_routes(app: FastAPI) -> None:
    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        database: Database = request.app.state.database
        try:
            async with database.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:
            return JSONResponse({"status": "unavailable", "error": type(exc).__name__}, 503)
        breaker = request.app.state.runtime.router.breaker
        circuits = {
            name: "open" if breaker.is_open(name) else "closed"
            for name in request.app.state.runtime.router.real
        }
        return JSONResponse({"status": "ready", "providers": circuits})

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
