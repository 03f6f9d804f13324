"""Reading a contacts CSV (API.md §8, §12): the header, then every row checked.

Columns: ``phone`` (required), ``name``, ``email``, ``tags`` (``;``-separated) and
``attributes.<key>``, in any order and case. An empty cell is absent. A row's
problems are collected with its number (data rows from 1, the header excluded);
a file that cannot be read as a whole (not UTF-8, broken quoting, unknown or
repeated columns, no ``phone``) is refused with 422.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lynsms.contacts import fields
from lynsms.exceptions import PayloadTooLarge, ValidationFailed
from lynsms.kit.phones import InvalidNumber, normalise

MAX_BYTES = 50 * 1024 * 1024  # API.md §12
MAX_ROWS = 200_000
FIXED_COLUMNS = ("phone", "name", "email", "tags")
ATTRIBUTE_PREFIX = "attributes."
COLUMNS_HELP = "phone, name, email, tags (separated by ';') and attributes.<key>"
_normalise = normalise.__wrapped__  # not through the send path's cache: 100k numbers would evict it


@dataclass(slots=True)
class ImportRow:
    number: int  # data row, from 1
    phone: str
    name: str | None
    email: str | None
    tags: list[str] | None  # None: the cell was empty (absent)
    attributes: dict[str, str]


@dataclass
class Parsed:
    rows: dict[str, ImportRow] = field(default_factory=dict)  # by phone: the last row wins
    failed: list[dict[str, Any]] = field(default_factory=list)

    def fail(self, number: int, code: str, message: str) -> None:
        self.failed.append({"row": number, "error": {"code": code, "message": message}})


@dataclass(frozen=True, slots=True)
class Layout:
    """Where each field is in a row."""

    width: int
    phone: int
    name: int | None
    email: int | None
    tags: int | None
    attributes: tuple[tuple[int, str], ...]  # (cell, key)


class RowProblem(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse(data: bytes) -> Parsed:
    """Every row checked; raises 422 (413) for a file that cannot be taken as a whole."""
    if len(data) > MAX_BYTES:
        raise PayloadTooLarge(f"The CSV is over {MAX_BYTES} bytes.")
    reader = csv.reader(io.StringIO(_text(data)), strict=True)
    try:
        layout = _layout(next(reader, None))
        return _rows(reader, layout)
    except csv.Error as exc:
        raise ValidationFailed(f"The CSV cannot be read at line {reader.line_num}: {exc}.") from exc


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(f"The CSV is not UTF-8 text (byte {exc.start}).") from exc


def _layout(header: list[str] | None) -> Layout:
    if not header:
        raise ValidationFailed(
            f"The CSV is empty; its first line names the columns: {COLUMNS_HELP}."
        )
    columns: list[str] = []
    for raw in header:
        column = _column(raw.strip())
        if column in columns:
            raise ValidationFailed(f"The column '{column}' appears twice.", param=column)
        columns.append(column)
    if "phone" not in columns:
        raise ValidationFailed(f"The CSV has no 'phone' column; columns: {COLUMNS_HELP}.")
    keys = tuple((i, c[len(ATTRIBUTE_PREFIX) :]) for i, c in enumerate(columns) if "." in c)
    if len(keys) > fields.MAX_ATTRIBUTES:
        raise ValidationFailed(f"More than {fields.MAX_ATTRIBUTES} attribute columns.")
    where = {column: i for i, column in enumerate(columns)}
    return Layout(
        len(columns), where["phone"], where.get("name"), where.get("email"), where.get("tags"), keys
    )


def _column(name: str) -> str:
    lower = name.lower()
    if lower in FIXED_COLUMNS:
        return lower
    if lower.startswith(ATTRIBUTE_PREFIX):
        key = name[len(ATTRIBUTE_PREFIX) :]
        try:
            return ATTRIBUTE_PREFIX + fields.attribute_key(key)
        except ValueError as exc:
            raise ValidationFailed(f"Column '{name}': {exc}.", param=name) from exc
    raise ValidationFailed(f"Unknown column '{name}'; columns: {COLUMNS_HELP}.", param=name)


def _rows(reader: Iterator[list[str]], layout: Layout) -> Parsed:
    parsed = Parsed()
    for number, cells in enumerate(reader, start=1):
        if number > MAX_ROWS:
            raise ValidationFailed(f"The CSV has over {MAX_ROWS} rows; split it.")
        if not cells:  # a blank line: nothing to import
            continue
        try:
            row = _row(number, layout, cells)
        except RowProblem as exc:
            parsed.fail(number, exc.code, exc.message)
            continue
        parsed.rows[row.phone] = row
    return parsed


def _row(number: int, layout: Layout, cells: list[str]) -> ImportRow:
    if len(cells) > layout.width:
        raise RowProblem(
            "validation_error", f"{len(cells)} cells, but the header names {layout.width} columns."
        )
    cells = [cell.strip() for cell in cells]
    cells += [""] * (layout.width - len(cells))  # missing cells are empty
    try:
        name, email, tags = (
            _cell(cells, layout.name, fields.name),
            _cell(cells, layout.email, fields.email),
            _cell(cells, layout.tags, _tags),
        )
        attributes = {key: _attribute(key, cells[i]) for i, key in layout.attributes if cells[i]}
    except ValueError as exc:
        raise RowProblem("validation_error", f"{str(exc)[:1].upper()}{str(exc)[1:]}.") from exc
    return ImportRow(number, _phone(cells[layout.phone]), name, email, tags, attributes)


def _cell(cells: list[str], index: int | None, check: Any) -> Any:
    if index is None or not cells[index]:
        return None
    return check(cells[index])


def _tags(cell: str) -> list[str]:
    return fields.tags(cell.split(fields.TAG_SEPARATOR))


def _attribute(key: str, value: str) -> str:
    if len(value) > fields.MAX_ATTRIBUTE_TEXT:
        raise ValueError(f"attribute '{key}' is over {fields.MAX_ATTRIBUTE_TEXT} characters")
    return value


def _phone(raw: str) -> str:
    if not raw:
        raise RowProblem("validation_error", "The phone is empty.")
    try:
        return str(_normalise(raw))
    except InvalidNumber as exc:
        raise RowProblem("invalid_phone_number", f"'{raw[:40]}' {exc}.") from exc
