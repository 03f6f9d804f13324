"""HTTP endpoints of templates: parse, authorise, one service call, render."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from starlette.responses import Response

from lynsms.accounts.auth import Principal, requires
from lynsms.database import DbSession
from lynsms.exceptions import NotFound
from lynsms.kit.envelope import Envelope, PageEnvelope, ok, ok_page
from lynsms.kit.openapi import errors
from lynsms.kit.pagination import PageParams
from lynsms.templates import service
from lynsms.templates.schemas import (
    PreviewOut,
    PreviewRequest,
    TemplateCreate,
    TemplateOut,
    TemplateUpdate,
)

TemplatesRead = Annotated[Principal, requires("templates:read")]
TemplatesWrite = Annotated[Principal, requires("templates:write")]

router = APIRouter(prefix="/templates", tags=["templates"])


@router.get(
    "",
    response_model=PageEnvelope[TemplateOut],
    summary="List templates, newest first",
)
async def list_templates(
    principal: TemplatesRead, session: DbSession, page: PageParams
) -> Response:
    items, total = await service.list_templates(
        session, principal.account_id, page.offset, page.limit
    )
    return ok_page(items, page.block(total))


@router.post(
    "",
    status_code=201,
    response_model=Envelope[TemplateOut],
    responses=errors("template_exists"),
    summary="Create a template; its name is unique per account",
)
async def create_template(
    body: TemplateCreate, principal: TemplatesWrite, session: DbSession
) -> Response:
    return ok(await service.create_template(session, principal.account_id, body), 201)


@router.get(
    "/{template_id}",
    response_model=Envelope[TemplateOut],
    responses=errors(NotFound),
    summary="Retrieve a template",
)
async def get_template(template_id: str, principal: TemplatesRead, session: DbSession) -> Response:
    return ok(await service.get_template(session, principal.account_id, template_id))


@router.patch(
    "/{template_id}",
    response_model=Envelope[TemplateOut],
    responses=errors(NotFound, "template_exists"),
    summary="Update a template; null clears the description",
)
async def update_template(
    template_id: str, body: TemplateUpdate, principal: TemplatesWrite, session: DbSession
) -> Response:
    return ok(await service.update_template(session, principal.account_id, template_id, body))


@router.delete(
    "/{template_id}",
    response_model=Envelope[TemplateOut],
    responses=errors(NotFound),
    summary="Delete a template",
)
async def delete_template(
    template_id: str, principal: TemplatesWrite, session: DbSession
) -> Response:
    return ok(await service.delete_template(session, principal.account_id, template_id))


@router.post(
    "/{template_id}/preview",
    response_model=Envelope[PreviewOut],
    responses=errors(NotFound, "missing_template_variable"),
    summary="Render a template with variables: body, encoding and segments",
)
async def preview_template(
    template_id: str, body: PreviewRequest, principal: TemplatesRead, request: Request
) -> Response:
    database = request.app.state.database
    return ok(await service.preview(database, principal.account_id, template_id, body.variables))
