"""Templates (API.md §8, §12): CRUD, preview, and the body of a send that names one.

``POST /messages/send`` and ``/messages/bulk`` call ``resolve`` only when the request
names a template or has variables (``wanted``), or a single send has no body; any
other send does no template work at all.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from lynsms.accounts.auth import Principal
from lynsms.database import Database
from lynsms.exceptions import Conflict, NotFound, ValidationFailed
from lynsms.kit.clock import isoformat, utcnow
from lynsms.kit.ids import new_id
from lynsms.kit.segments import segment
from lynsms.messages.schemas import BulkRequest, SendOptions, SendRequest
from lynsms.models import Template
from lynsms.runtime import Runtime
from lynsms.templates import placeholders
from lynsms.templates.repository import TemplateRepository
from lynsms.templates.schemas import TemplateCreate, TemplateUpdate

RequestT = TypeVar("RequestT", SendRequest, BulkRequest)
_REQUIRED = ("name", "body")  # fields a PATCH may not set to null


async def create_template(
    session: AsyncSession, account_id: str, spec: TemplateCreate
) -> dict[str, Any]:
    now = utcnow()
    template = Template(
        id=new_id("tpl"),
        account_id=account_id,
        name=spec.name,
        body=spec.body,
        description=spec.description,
        created_at=now,
        updated_at=now,
    )
    repository = TemplateRepository(session)
    await _name_free(repository, account_id, spec.name)
    try:
        await repository.add(template)
    except IntegrityError as exc:  # created concurrently
        raise _exists(spec.name) from exc
    return template_to_dict(template)


async def get_template(session: AsyncSession, account_id: str, template_id: str) -> dict[str, Any]:
    return template_to_dict(await _get(TemplateRepository(session), account_id, template_id))


async def list_templates(
    session: AsyncSession, account_id: str, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    found, total = await TemplateRepository(session).page(account_id, offset, limit)
    return [template_to_dict(template) for template in found], total


async def update_template(
    session: AsyncSession, account_id: str, template_id: str, patch: TemplateUpdate
) -> dict[str, Any]:
    repository = TemplateRepository(session)
    template = await _get(repository, account_id, template_id)
    sent = patch.model_fields_set
    for name in _REQUIRED:
        if name in sent and getattr(patch, name) is None:
            raise ValidationFailed(f"'{name}' cannot be null.", param=name)
    if patch.name is not None and patch.name != template.name:
        await _name_free(repository, account_id, patch.name)
    for name in ("name", "body", "description"):
        if name in sent:
            setattr(template, name, getattr(patch, name))
    template.updated_at = utcnow()
    try:
        await repository.flush()
    except IntegrityError as exc:
        raise _exists(template.name) from exc
    return template_to_dict(template)


async def delete_template(
    session: AsyncSession, account_id: str, template_id: str
) -> dict[str, Any]:
    repository = TemplateRepository(session)
    template = await _get(repository, account_id, template_id)
    await repository.delete(template)
    return template_to_dict(template)


async def preview(
    database: Database, account_id: str, template_id: str, values: dict[str, Any]
) -> dict[str, Any]:
    """The body the template gives with ``values``, and how it goes over the air (a read:
    no write session, which on SQLite would hold the write lock)."""
    async with database.read_sessions() as session:
        template = await _get(TemplateRepository(session), account_id, template_id)
    body = render(template, values)
    seg = segment(body)
    return {"body": body, "encoding": seg.encoding, "segments": seg.segments}


def render(template: Template, values: dict[str, Any]) -> str:
    """The template filled in; 422 ``missing_template_variable`` naming what is missing."""
    try:
        return placeholders.render(template.body, values)
    except placeholders.MissingVariables as exc:
        names = ", ".join(f"'{name}'" for name in exc.names)
        raise ValidationFailed(
            f"The template '{template.name}' needs the variable{'s' * (len(exc.names) > 1)} "
            f"{names}; give it in 'variables'.",
            code="missing_template_variable",
            param=f"variables.{exc.names[0]}",
        ) from exc


# --- sends ---------------------------------------------------------------------------------
def wanted(request: SendOptions) -> bool:
    """Whether a send names a template or gives variables (then ``resolve`` runs)."""
    return (
        request.template_id is not None
        or request.template_name is not None
        or request.variables is not None
    )


async def resolve(runtime: Runtime, principal: Principal, request: RequestT) -> RequestT:
    """``request`` with the body its template gives: one indexed read. Refuses (422) a
    request with both a body and a template, variables without a template, an unknown
    template (``unknown_template``) or a missing variable (``missing_template_variable``)."""
    _check_choice(request)
    async with runtime.database.read_sessions() as session:
        template = await _for_send(TemplateRepository(session), principal.account_id, request)
    return request.model_copy(update={"body": render(template, request.variables or {})})


def _check_choice(request: SendRequest | BulkRequest) -> None:
    if request.template_id is not None and request.template_name is not None:
        raise ValidationFailed(
            "Give 'template_id' or 'template_name', not both.", param="template_name"
        )
    if request.template_id is None and request.template_name is None:
        if request.variables is not None:
            raise ValidationFailed(
                "'variables' go with 'template_id' or 'template_name'.", param="variables"
            )
        raise ValidationFailed("'body' is required (or 'template_id').", param="body")
    if request.body is not None:
        raise ValidationFailed("Give 'body' or a template, not both.", param="body")


async def _for_send(
    repository: TemplateRepository, account_id: str, request: SendRequest | BulkRequest
) -> Template:
    if request.template_id is not None:
        found = await repository.get(account_id, request.template_id)
        param, value = "template_id", request.template_id
    else:
        name = request.template_name or ""
        found = await repository.find(account_id, name)
        param, value = "template_name", name
    if found is None:
        raise ValidationFailed(
            f"No template '{value}' on this account.", code="unknown_template", param=param
        )
    return found


async def _get(repository: TemplateRepository, account_id: str, template_id: str) -> Template:
    template = await repository.get(account_id, template_id)
    if template is None:
        raise NotFound(f"No template {template_id}.", param="id")
    return template


async def _name_free(repository: TemplateRepository, account_id: str, name: str) -> None:
    if await repository.find(account_id, name) is not None:
        raise _exists(name)


def _exists(name: str) -> Conflict:
    return Conflict(
        f"A template named '{name}' already exists.", code="template_exists", param="name"
    )


def template_to_dict(template: Template) -> dict[str, Any]:
    return {
        "id": template.id,
        "object": "template",
        "name": template.name,
        "body": template.body,
        "variables": placeholders.variables(template.body),
        "description": template.description,
        "created_at": isoformat(template.created_at),
        "updated_at": isoformat(template.updated_at),
    }
