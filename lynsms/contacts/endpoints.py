"""HTTP endpoints of contacts: parse, authorise, one service call, render."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from lynsms.accounts.auth import Principal, requires
from lynsms.contacts import csvfile, importer, service
from lynsms.contacts.repository import ContactFilters
from lynsms.contacts.schemas import ContactCreate, ContactOut, ContactUpdate, ImportResultOut
from lynsms.database import DbSession
from lynsms.exceptions import NotFound
from lynsms.kit.envelope import Envelope, PageEnvelope, ok, ok_page
from lynsms.kit.middleware import body_rule
from lynsms.kit.openapi import errors
from lynsms.kit.pagination import PageParams

ContactsRead = Annotated[Principal, requires("contacts:read")]
ContactsWrite = Annotated[Principal, requires("contacts:write")]
IMPORT_PATH = "/api/v1/contacts/import"
CSV_TYPES = frozenset({"text/csv"})
body_rule(IMPORT_PATH, csvfile.MAX_BYTES, CSV_TYPES)

router = APIRouter(prefix="/contacts", tags=["contacts"])


async def _filters(
    tag: Annotated[str | None, Query(max_length=64, description="Contacts with this tag.")] = None,
    phone: Annotated[str | None, Query(description="This number (any format).")] = None,
    opted_out: bool | None = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Name or phone contains, any case.")
    ] = None,
) -> ContactFilters:
    number = service.phone_of(phone) if phone is not None else None
    return ContactFilters(tag=tag, phone=number, opted_out=opted_out, q=q or None)


Filters = Annotated[ContactFilters, Depends(_filters)]


@router.get(
    "",
    response_model=PageEnvelope[ContactOut],
    responses=errors("invalid_phone_number"),
    summary="List contacts, newest first",
)
async def list_contacts(
    principal: ContactsRead, session: DbSession, page: PageParams, filters: Filters
) -> Response:
    items, total = await service.list_contacts(
        session, principal.account_id, filters, page.offset, page.limit
    )
    return ok_page(items, page.block(total))


@router.post(
    "",
    status_code=201,
    response_model=Envelope[ContactOut],
    responses=errors("invalid_phone_number", "contact_exists"),
    summary="Create a contact; its phone is unique per account",
)
async def create_contact(
    body: ContactCreate, principal: ContactsWrite, session: DbSession
) -> Response:
    return ok(await service.create_contact(session, principal.account_id, body), 201)


@router.post(
    "/import",
    response_model=Envelope[ImportResultOut],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "Columns phone,name,email,tags (';'-separated) and attributes.<key>; "
            "up to 50 MiB. Creates or updates by phone; the last row of a phone wins.",
        }
    },
    summary="Import contacts from CSV: created or updated by phone",
)
async def import_contacts(principal: ContactsWrite, request: Request) -> Response:
    data = await request.body()
    return ok(await importer.import_csv(request.app.state.database, principal.account_id, data))


@router.get(
    "/{contact_id}",
    response_model=Envelope[ContactOut],
    responses=errors(NotFound),
    summary="Retrieve a contact",
)
async def get_contact(contact_id: str, principal: ContactsRead, session: DbSession) -> Response:
    return ok(await service.get_contact(session, principal.account_id, contact_id))


@router.patch(
    "/{contact_id}",
    response_model=Envelope[ContactOut],
    responses=errors(NotFound, "invalid_phone_number", "contact_exists"),
    summary="Update a contact: attributes merge, tags replace, null clears",
)
async def update_contact(
    contact_id: str, body: ContactUpdate, principal: ContactsWrite, session: DbSession
) -> Response:
    return ok(await service.update_contact(session, principal.account_id, contact_id, body))


@router.delete(
    "/{contact_id}",
    response_model=Envelope[ContactOut],
    responses=errors(NotFound),
    summary="Delete a contact; an opt-out of its number stays",
)
async def delete_contact(contact_id: str, principal: ContactsWrite, session: DbSession) -> Response:
    return ok(await service.delete_contact(session, principal.account_id, contact_id))
