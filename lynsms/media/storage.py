"""Media files on disk (``LYNSMS_MEDIA_DIR``): checked while they are copied, never buffered.

A file is written as ``<media_dir>/.<id>.part`` in 64 KiB chunks and renamed to
``<media_dir>/<id>`` once whole; the copy stops at the first byte past the limit.
Its type is what its magic bytes say, and must be the one the upload declared.
Every node serving the API must see the same directory (a shared volume).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

from lynsms.exceptions import PayloadTooLarge, UnsupportedMediaType

MAX_BYTES = 5 * 1024 * 1024  # 5,242,880 bytes (API.md §12)
CHUNK = 64 * 1024
ALLOWED = ("image/jpeg", "image/png", "image/gif")
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif"}
FIELD = "file"


def sniff(head: bytes) -> str | None:
    """The image type the first bytes of a file announce, if one of ``ALLOWED``."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


def unsupported(message: str) -> UnsupportedMediaType:
    return UnsupportedMediaType(message, param=FIELD)


def check_declared(declared: str | None) -> str:
    kind = (declared or "").split(";")[0].strip().lower()
    if kind not in ALLOWED:
        raise unsupported(
            f"The file is declared as '{kind or 'nothing'}'; send {', '.join(ALLOWED)}."
        )
    return kind


class MediaStore:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def path(self, media_id: str) -> Path:
        return self.directory / media_id

    def write(self, source: BinaryIO, media_id: str, declared: str) -> int:
        """Copy ``source`` to the media file of ``media_id``; its size. Blocking (a thread).

        Raises 415 when the bytes are not an image of the ``declared`` type, 413 past
        ``MAX_BYTES``; nothing is left on disk then."""
        self.directory.mkdir(parents=True, exist_ok=True)
        part = self.directory / f".{media_id}.part"
        try:
            size = self._copy(source, part, declared)
            os.replace(part, self.path(media_id))
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        return size

    @staticmethod
    def _copy(source: BinaryIO, part: Path, declared: str) -> int:
        size = 0
        with part.open("wb") as target:
            while chunk := source.read(CHUNK):
                if size == 0:
                    actual = sniff(chunk)
                    if actual != declared:
                        what = f"a {actual} file" if actual else "not a JPEG, PNG or GIF image"
                        raise unsupported(f"The file is declared as {declared} but is {what}.")
                size += len(chunk)
                if size > MAX_BYTES:
                    raise PayloadTooLarge(
                        f"The file is over {MAX_BYTES:,} bytes (5 MiB).", param=FIELD
                    )
                target.write(chunk)
        if size == 0:
            raise unsupported("The file is empty.")
        return size

    def remove(self, media_id: str) -> None:
        self.path(media_id).unlink(missing_ok=True)
