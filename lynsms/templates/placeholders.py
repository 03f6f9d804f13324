"""``{{variable}}`` placeholders (API.md §8, §12): find them, check them, fill them in.

A variable name matches ``[A-Za-z_][A-Za-z0-9_.]*``; spaces inside the braces are
allowed (``{{ name }}``). Any other ``{{`` or ``}}`` in a template is refused, so a
typo never reaches a phone as literal braces. Values are filled in one pass: a value
that itself contains ``{{x}}`` is sent as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")


class MissingVariables(ValueError):
    def __init__(self, names: list[str]) -> None:
        super().__init__(", ".join(names))
        self.names = names


def check(body: str) -> str:
    """``body`` if every ``{{ … }}`` in it is a placeholder; else ValueError."""
    rest = PLACEHOLDER.sub("", body)
    if "{{" in rest or "}}" in rest:
        raise ValueError(
            "every '{{ … }}' must hold one variable name matching [A-Za-z_][A-Za-z0-9_.]*"
        )
    return body


def variables(body: str) -> list[str]:
    """The variable names of ``body`` in order of first appearance."""
    return list(dict.fromkeys(PLACEHOLDER.findall(body)))


def render(body: str, values: Mapping[str, Any]) -> str:
    """``body`` with its placeholders filled in; raises ``MissingVariables`` naming, in
    order, every variable ``values`` lacks."""
    missing = [name for name in variables(body) if name not in values]
    if missing:
        raise MissingVariables(missing)
    return PLACEHOLDER.sub(lambda match: text_of(values[match.group(1)]), body)


def text_of(value: Any) -> str:
    """How a JSON value reads in a message: ``true``, ``3``, ``2.5``, or the string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
