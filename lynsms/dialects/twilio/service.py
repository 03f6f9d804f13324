"""The Twilio Messages API as calls to our services: one send path, one set of messages.

Creating sends through ``lynsms.messages.service.send_one`` (a ``StatusCallback`` is
registered in the same transaction as the message); cancelling is its
``cancel_message``. Reads go through ``TwilioRepository`` because Twilio addresses
messages by SID, pages with tokens and filters on ``date_sent``. The services' refusals
(``LynSMSError``) leave through the routes, translated into Twilio's.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy import RowMapping

from lynsms.accounts.auth import Principal
from lynsms.database import session_scope
from lynsms.dialects import hidden
from lynsms.dialects.twilio import callbacks, forms
from lynsms.dialects.twilio import errors as e
from lynsms.dialects.twilio.auth import Caller
from lynsms.dialects.twilio.errors import TwilioError
from lynsms.dialects.twilio.repository import Deletion, TwilioRepository, status_callbacks
from lynsms.dialects.twilio.resources import (
    account_path,
    media_resources,
    message_resource,
    page_resource,
)
from lynsms.dialects.twilio.sids import id_prefix, sid_of
from lynsms.kit.clock import utcnow
from lynsms.messages import service as messages_service
from lynsms.runtime import Runtime
from lynsms.webhooks import signing
from lynsms.writer import WriteOp


def not_found(path: str) -> TwilioError:
    return TwilioError(404, e.NOT_FOUND, f"The requested resource {path} was not found")


async def create(runtime: Runtime, caller: Caller, form: forms.Form) -> dict[str, Any]:
    """``POST Messages.json``: send, then answer the message as it now stands."""
    spec = forms.create_request(form)
    principal = caller.principal
    attach = None
    if spec.status_callback is not None:
        await hidden.ensure(runtime, principal, callbacks.ENDPOINT)
        sealed = callbacks.seal(signing.server_key(runtime.settings), caller.token)
        attach = partial(_register, spec.status_callback, sealed)
    sent = await messages_service.send_one(runtime, principal, spec.request, attach)
    async with session_scope(runtime.database, write=False) as session:
        row = await TwilioRepository(session).by_prefix(
            principal.account_id, principal.environment, sent["id"]
        )
    if row is None:  # deleted in between
        raise not_found(f"{account_path(principal.account_id)}/Messages/{sid_of(sent['id'])}.json")
    return message_resource(row)


def _register(url: str, sealed: str, op: WriteOp, rows: list[dict[str, Any]]) -> None:
    """Add the messages' StatusCallback to the write that accepts them."""
    op.insert(
        status_callbacks,
        [
            {"message_id": row["id"], "url": url, "sealed_token": sealed, "created_at": utcnow()}
            for row in rows
        ],
    )


async def fetch(runtime: Runtime, principal: Principal, sid: str, path: str) -> dict[str, Any]:
    async with session_scope(runtime.database, write=False) as session:
        return message_resource(await _find(TwilioRepository(session), principal, sid, path))


async def media(runtime: Runtime, principal: Principal, sid: str, path: str) -> dict[str, Any]:
    """A message's media (one per MediaUrl of an MMS), on Twilio's list page."""
    async with session_scope(runtime.database, write=False) as session:
        row = await _find(
            TwilioRepository(session), principal, sid, path.removesuffix("/Media.json") + ".json"
        )
    return page_resource(
        "media_list",
        path,
        media_resources(row),
        query={},
        page=0,
        page_size=forms.DEFAULT_PAGE_SIZE,
        token=None,
        next_token=None,
        previous_token=None,
    )


async def list_messages(
    runtime: Runtime, principal: Principal, params: dict[str, str], path: str
) -> dict[str, Any]:
    """``GET Messages.json``: newest first, Twilio's paging (``PageToken`` continues from a
    record, so pages do not shift as new messages arrive)."""
    query = forms.list_query(params)
    async with session_scope(runtime.database, write=False) as session:
        rows = await TwilioRepository(session).page(
            principal.account_id,
            principal.environment,
            query.filters,
            offset=query.page * query.page_size,
            limit=query.page_size + 1,
            older_than=query.older_than,
            newer_than=query.newer_than,
        )
    if query.newer_than is not None:  # the page before one already seen: a next one exists
        more, rows = True, rows[-query.page_size :]
    else:
        more, rows = len(rows) > query.page_size, rows[: query.page_size]
    records = [message_resource(row) for row in rows]
    return page_resource(
        "messages",
        path,
        records,
        query=query.echo,
        page=query.page,
        page_size=query.page_size,
        token=query.token,
        next_token="PA" + records[-1]["sid"] if more and records else None,
        previous_token="PB" + records[0]["sid"] if records else None,
    )


async def cancel(
    runtime: Runtime, principal: Principal, sid: str, form: forms.Form, path: str
) -> dict[str, Any]:
    """``POST Messages/{Sid}.json`` with ``Status=canceled``: cancel a scheduled message."""
    forms.cancel_status(form)
    async with session_scope(runtime.database, write=True) as session:
        repository = TwilioRepository(session)
        row = await _find(repository, principal, sid, path)
        await messages_service.cancel_message(session, principal, row["id"])
        return message_resource(await _find(repository, principal, sid, path))


async def delete(runtime: Runtime, principal: Principal, sid: str, path: str) -> None:
    """``DELETE Messages/{Sid}.json``: a final message leaves every view (API.md §12)."""
    prefix = id_prefix(sid)
    if prefix is None:
        raise not_found(path)
    async with session_scope(runtime.database, write=True) as session:
        outcome = await TwilioRepository(session).delete_final(
            principal.account_id, principal.environment, prefix
        )
    if outcome is Deletion.NOT_FOUND:
        raise not_found(path)
    if outcome is Deletion.IN_PROGRESS:
        raise TwilioError(409, e.CANNOT_DELETE, "Cannot delete this resource before it is complete")


async def _find(
    repository: TwilioRepository, principal: Principal, sid: str, path: str
) -> RowMapping:
    prefix = id_prefix(sid)
    account_id, mode = principal.account_id, principal.environment
    row = None if prefix is None else await repository.by_prefix(account_id, mode, prefix)
    if row is None:
        raise not_found(path)
    return row
