"""HTTP endpoints of media (API.md §8): the API under /api/v1/media, and the public file.

``POST /media`` takes ``multipart/form-data`` with one ``file`` part. The middleware
lets bodies of up to 5 MiB plus room for the multipart envelope through (413 above);
the file itself is held to 5,242,880 bytes while it is copied (``storage``). JSON is
let through the middleware too, so that a wrong key is told 401/403 before the 415.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, Response

from lynsms.accounts.auth import Principal, requires
from lynsms.database import DbSession
from lynsms.exceptions import NotFound, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from lynsms.kit.envelope import Envelope, PageEnvelope, ok, ok_page
from lynsms.kit.middleware import body_rule
from lynsms.kit.openapi import errors
from lynsms.kit.pagination import PageParams
from lynsms.media import service
from lynsms.media.schemas import MediaOut
from lynsms.media.storage import ALLOWED, FIELD, MAX_BYTES, check_declared, unsupported

MediaRead = Annotated[Principal, requires("media:read")]
MediaWrite = Annotated[Principal, requires("media:write")]
UPLOAD_PATH = "/api/v1/media"
MULTIPART = "multipart/form-data"
ENVELOPE_ROOM = 64 * 1024  # boundaries and part headers around the file
body_rule(UPLOAD_PATH, MAX_BYTES + ENVELOPE_ROOM, frozenset({MULTIPART, "application/json"}))

router = APIRouter(prefix="/media", tags=["media"])
public_router = APIRouter()

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            MULTIPART: {
                "schema": {
                    "type": "object",
                    "required": [FIELD],
                    "properties": {
                        FIELD: {
                            "type": "string",
                            "contentMediaType": "application/octet-stream",
                            "description": f"{', '.join(ALLOWED)}; up to 5 MiB.",
                        }
                    },
                },
                "encoding": {FIELD: {"contentType": ", ".join(ALLOWED)}},
            }
        },
    }
}


@router.get("", response_model=PageEnvelope[MediaOut], summary="List media, newest first")
async def list_media(
    principal: MediaRead, session: DbSession, page: PageParams, request: Request
) -> Response:
    items, total = await service.list_media(
        request.app.state.runtime, session, principal, page.offset, page.limit
    )
    return ok_page(items, page.block(total))


@router.post(
    "",
    status_code=201,
    response_model=Envelope[MediaOut],
    openapi_extra=_UPLOAD_BODY,
    responses=errors(PayloadTooLarge, UnsupportedMediaType, "validation_error"),
    summary="Upload an image for MMS (JPEG, PNG or GIF, up to 5 MiB)",
)
async def upload_media(principal: MediaWrite, request: Request) -> Response:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != MULTIPART:
        raise unsupported(f"Send the file as {MULTIPART}, in the field '{FIELD}'.")
    try:
        form = await request.form(max_files=1, max_fields=10)
    except HTTPException as exc:  # malformed multipart (python-multipart's refusal)
        raise ValidationFailed(f"Unreadable multipart body: {exc.detail}", param=FIELD) from exc
    try:
        upload = form.get(FIELD)
        if not isinstance(upload, UploadFile):
            raise ValidationFailed(f"The field '{FIELD}' (a file) is required.", param=FIELD)
        declared = check_declared(upload.content_type)
        media = await service.create_media(
            request.app.state.runtime, principal, upload.file, declared
        )
    finally:
        await form.close()
    return ok(media, 201)


@router.get(
    "/{media_id}",
    response_model=Envelope[MediaOut],
    responses=errors(NotFound),
    summary="Retrieve a media object",
)
async def get_media(
    media_id: str, principal: MediaRead, session: DbSession, request: Request
) -> Response:
    return ok(await service.get_media(request.app.state.runtime, session, principal, media_id))


@router.delete(
    "/{media_id}",
    response_model=Envelope[MediaOut],
    responses=errors(NotFound),
    summary="Delete a media object and its file; its url answers 404 from then on",
)
async def delete_media(media_id: str, principal: MediaWrite, request: Request) -> Response:
    return ok(await service.delete_media(request.app.state.runtime, principal, media_id))


@public_router.api_route(service.PUBLIC_PREFIX + "{name}", methods=["GET", "HEAD"])
async def public_media(name: str, request: Request) -> Response:
    """The file behind a media URL, without a key (providers fetch it); 404 once expired."""
    found = await service.public_file(request.app.state.runtime, name)
    if found is None:
        raise NotFound("No such media.")
    path, content_type = found
    headers = {"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"}
    return FileResponse(path, media_type=content_type, headers=headers)
