"""HTTP endpoints of the account and its API keys."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from lynsms.accounts import service
from lynsms.accounts.auth import AccountRead, ApiKeysRead, ApiKeysWrite
from lynsms.accounts.schemas import AccountOut, ApiKeyCreate, ApiKeyCreated, ApiKeyOut
from lynsms.database import DbSession
from lynsms.exceptions import NotFound
from lynsms.kit.envelope import Envelope, PageEnvelope, ok, ok_page
from lynsms.kit.openapi import errors
from lynsms.kit.pagination import PageParams

router = APIRouter(tags=["account"])


@router.get("/account", response_model=Envelope[AccountOut], summary="Account profile")
async def get_account(principal: AccountRead, session: DbSession) -> Response:
    account = await service.get_account(session, principal.account_id)
    return ok(service.account_to_dict(account))


@router.get(
    "/api-keys",
    response_model=PageEnvelope[ApiKeyOut],
    tags=["api keys"],
    summary="List API keys",
)
async def list_keys(principal: ApiKeysRead, session: DbSession, page: PageParams) -> Response:
    keys, total = await service.list_keys(session, principal.account_id, page.offset, page.limit)
    return ok_page([service.key_to_dict(key) for key in keys], page.block(total))


@router.post(
    "/api-keys/create",
    status_code=201,
    response_model=Envelope[ApiKeyCreated],
    tags=["api keys"],
    responses=errors("environment_not_allowed"),
    summary="Create an API key; the response alone shows it",
)
async def create_key(body: ApiKeyCreate, principal: ApiKeysWrite, session: DbSession) -> Response:
    key, raw = await service.create_key_as(session, principal, body)
    return ok(service.key_to_dict(key, raw), 201)


@router.delete(
    "/api-keys/{key_id}",
    response_model=Envelope[ApiKeyOut],
    tags=["api keys"],
    responses=errors(NotFound),
    summary="Revoke an API key",
)
async def revoke_key(
    key_id: str, principal: ApiKeysWrite, session: DbSession, request: Request
) -> Response:
    key = await service.revoke_key(
        session, principal.account_id, key_id, request.app.state.key_cache
    )
    return ok(service.key_to_dict(key))
