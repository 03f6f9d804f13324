"""POST/GET/DELETE /media and the public media URL (API.md §8, §12)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from lynsms.database import session_scope
from lynsms.kit.clock import utcnow
from lynsms.media import service as media_service
from lynsms.media.repository import c, media
from lynsms.media.storage import MAX_BYTES
from tests.factories import create_customer
from tests.media.conftest import GIF, JPEG, PNG, upload, uploaded


async def fetch(url: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as client:  # no key at all
        return await client.get(url)


@pytest.mark.parametrize(
    ("data", "content_type"), [(PNG, "image/png"), (JPEG, "image/jpeg"), (GIF, "image/gif")]
)
async def test_upload_each_allowed_type_and_fetch_it_without_a_key(
    mapi, mcustomer, media_server, data, content_type
):
    response = await upload(mapi, mcustomer.live, data, content_type)
    assert response.status_code == 201, response.text
    body = response.json()["data"]
    assert body["id"].startswith("med_") and body["object"] == "media"
    assert (body["content_type"], body["size"]) == (content_type, len(data))
    assert body["url"].startswith(media_server.url + "/media/")
    token = body["url"].rsplit("/", 1)[1].split(".")[0]
    assert body["id"] not in body["url"] and len(token) >= 32  # 192 random bits
    assert body["created_at"].endswith("+00:00") and body["expires_at"].endswith("+00:00")
    served = await fetch(body["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == content_type
    assert served.content == data


async def test_a_wrong_token_is_404(mapi, mcustomer, media_server):
    body = await uploaded(mapi, mcustomer.live)
    assert (await fetch(media_server.url + "/media/" + "x" * 32 + ".png")).status_code == 404
    wrong_extension = body["url"].rsplit(".", 1)[0] + ".gif"
    assert (await fetch(wrong_extension)).status_code == 404
    assert (await fetch(media_server.url + "/media/" + body["id"])).status_code == 404


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"%PDF-1.4 not an image", "application/pdf"),  # declared wrong
        (b"%PDF-1.4 not an image", "image/png"),  # declared right, bytes wrong
        (PNG, "image/jpeg"),  # an image, but not the declared one
        (PNG, "image/webp"),
    ],
)
async def test_other_types_are_415_naming_the_field(mapi, mcustomer, data, content_type):
    response = await upload(mapi, mcustomer.live, data, content_type)
    assert response.status_code == 415, response.text
    error = response.json()["error"]
    assert (error["code"], error["param"]) == ("unsupported_media_type", "file")


async def test_a_json_body_is_415(mapi, mcustomer):
    response = await mapi.post("/media", json={"file": "x"}, headers=mcustomer.live)
    assert response.status_code == 415
    assert response.json()["error"]["param"] == "file"


async def test_missing_file_field_is_422_naming_it(mapi, mcustomer):
    response = await mapi.post(
        "/media", files={"picture": ("a.png", PNG, "image/png")}, headers=mcustomer.live
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["param"] == "file"
    as_text = await mapi.post(
        "/media", files={"file": (None, "just text")}, headers=mcustomer.live
    )  # a plain field named file, not a file
    assert as_text.status_code == 422


async def test_exactly_5_mib_is_taken_and_one_byte_more_is_413(mapi, mcustomer):
    exact = PNG + b"\0" * (MAX_BYTES - len(PNG))
    response = await upload(mapi, mcustomer.live, exact)
    assert response.status_code == 201, response.text
    assert response.json()["data"]["size"] == MAX_BYTES == 5_242_880
    over = await upload(mapi, mcustomer.live, exact + b"\0")
    assert over.status_code == 413, over.text
    assert over.json()["error"]["code"] == "payload_too_large"


async def test_a_far_larger_body_is_refused_before_it_is_read(mapi, mcustomer):
    response = await upload(mapi, mcustomer.live, PNG + b"\0" * (6 * 1024 * 1024))
    assert response.status_code == 413


async def test_nothing_is_left_on_disk_after_a_refusal(mapi, mcustomer, media_server):
    directory = media_server.runtime.settings.media_dir
    before = set(directory.iterdir()) if directory.exists() else set()
    await upload(mapi, mcustomer.live, PNG + b"\0" * MAX_BYTES)
    await upload(mapi, mcustomer.live, b"GIF89a", "image/png")
    assert set(directory.iterdir()) == before


async def test_get_and_delete(mapi, mcustomer):
    body = await uploaded(mapi, mcustomer.live, data=GIF, content_type="image/gif")
    got = await mapi.get(f"/media/{body['id']}", headers=mcustomer.live)
    assert got.status_code == 200 and got.json()["data"] == body
    listed = await mapi.get("/media", headers=mcustomer.live)
    assert body["id"] in [item["id"] for item in listed.json()["data"]]
    deleted = await mapi.delete(f"/media/{body['id']}", headers=mcustomer.live)
    assert deleted.status_code == 200 and deleted.json()["data"] == body
    assert (await fetch(body["url"])).status_code == 404
    assert (await mapi.get(f"/media/{body['id']}", headers=mcustomer.live)).status_code == 404
    assert (await mapi.delete(f"/media/{body['id']}", headers=mcustomer.live)).status_code == 404


async def test_the_file_is_removed_on_delete(mapi, mcustomer, media_server):
    body = await uploaded(mapi, mcustomer.live)
    path = media_server.runtime.settings.media_dir / body["id"]
    assert path.is_file()
    await mapi.delete(f"/media/{body['id']}", headers=mcustomer.live)
    assert not path.exists()


async def test_another_account_and_the_other_mode_see_404(mapi, mcustomer, media_server):
    body = await uploaded(mapi, mcustomer.live)
    other = await create_customer(media_server.runtime)
    for headers in (other.live, other.test, mcustomer.test):
        assert (await mapi.get(f"/media/{body['id']}", headers=headers)).status_code == 404
        assert (await mapi.delete(f"/media/{body['id']}", headers=headers)).status_code == 404
    listed = await mapi.get("/media", headers=mcustomer.test)
    assert body["id"] not in [item["id"] for item in listed.json()["data"]]


async def test_scopes(mapi, media_server):
    from tests.factories import create_account, create_key

    account = await create_account(media_server.runtime)
    reader = {
        "Authorization": "Bearer "
        + await create_key(media_server.runtime, account, scopes=["media:read"])
    }
    response = await upload(mapi, reader)
    assert response.status_code == 403
    assert response.json()["error"]["required_scope"] == "media:write"
    assert (await mapi.get("/media", headers=reader)).status_code == 200
    assert (await upload(mapi, {})).status_code == 401


async def _expire(runtime, media_id: str) -> None:
    from sqlalchemy import update

    async with session_scope(runtime.database, write=True) as session:
        await session.execute(
            update(media).where(c.id == media_id).values(expires_at=utcnow() - timedelta(seconds=1))
        )


async def test_expired_media_404_at_once_and_the_purge_removes_the_file(
    mapi, mcustomer, media_server
):
    runtime = media_server.runtime
    body = await uploaded(mapi, mcustomer.live)
    path = runtime.settings.media_dir / body["id"]
    await _expire(runtime, body["id"])
    assert (await fetch(body["url"])).status_code == 404
    assert (await mapi.get(f"/media/{body['id']}", headers=mcustomer.live)).status_code == 404
    assert path.is_file()
    purged = await media_service.purge_expired(
        runtime.database, media_service.store_of(runtime), utcnow()
    )
    assert purged >= 1
    assert not path.exists()
    async with session_scope(runtime.database, write=False) as session:
        assert await session.get(__import__("lynsms.models").models.Media, body["id"]) is None


async def test_the_purge_keeps_live_media(mapi, mcustomer, media_server):
    runtime = media_server.runtime
    body = await uploaded(mapi, mcustomer.live)
    await media_service.purge_expired(runtime.database, media_service.store_of(runtime), utcnow())
    assert (await fetch(body["url"])).status_code == 200
    later = utcnow() + media_service.LIFETIME + timedelta(seconds=1)  # the clock 30 days on
    await media_service.purge_expired(runtime.database, media_service.store_of(runtime), later)
    assert (await fetch(body["url"])).status_code == 404
    assert not (runtime.settings.media_dir / body["id"]).exists()


async def test_the_worker_purges(mapi, mcustomer, media_server):
    from lynsms.worker.runner import Worker

    runtime = media_server.runtime
    body = await uploaded(mapi, mcustomer.live)
    await _expire(runtime, body["id"])
    await Worker(runtime).purge_media_if_due()  # a fresh worker purges on its first pass
    assert not (runtime.settings.media_dir / body["id"]).exists()
