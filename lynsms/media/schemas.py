"""Response shapes of media (API.md §8)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from lynsms.kit.envelope import ResponseModel

_EXAMPLE: dict[str, Any] = {
    "id": "med_0Ut8kQzAbCdEfGhIjKlMnOpQr",
    "object": "media",
    "content_type": "image/png",
    "size": 48213,
    "url": "https://sms.example.com/media/6mB0c1Xq2Jr9sVt4WuLk8YzNaPo3Hd5E.png",
    "created_at": "2026-11-25T17:02:11+00:00",
    "expires_at": "2026-12-25T17:02:11+00:00",
}


class MediaOut(ResponseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    id: str = Field(examples=["med_0Ut8kQzAbCdEfGhIjKlMnOpQr"])
    object: Literal["media"] = "media"
    content_type: Literal["image/jpeg", "image/png", "image/gif"]
    size: int = Field(description="Bytes.")
    url: str = Field(description="Public and unguessable; what providers fetch. No key needed.")
    created_at: str
    expires_at: str = Field(description="30 days after the upload; the url then answers 404.")
