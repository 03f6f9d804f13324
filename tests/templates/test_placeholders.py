"""``{{variable}}`` placeholders: found in order, checked, filled in one pass."""

from __future__ import annotations

import pytest

from lynsms.templates import placeholders


def test_variables_in_order_of_first_appearance_with_spaces_and_dots():
    body = "Hi {{ first_name }}, order {{order.id}} for {{first_name}} ({{_x1}}, {{  B2  }})"

    assert placeholders.variables(body) == ["first_name", "order.id", "_x1", "B2"]


def test_render_fills_in_every_placeholder_once():
    body = "{{a}}+{{ a }} {{b}} {{c}} {{d}} {{e}}"

    text = placeholders.render(body, {"a": "{{b}}", "b": 3, "c": 2.5, "d": True, "e": 10.0})

    assert text == "{{b}}+{{b}} 3 2.5 true 10"


def test_render_names_every_missing_variable_in_order():
    with pytest.raises(placeholders.MissingVariables) as raised:
        placeholders.render("{{z}} {{a}} {{z}} {{b}}", {"a": "x"})

    assert raised.value.names == ["z", "b"]


def test_a_body_without_placeholders_is_itself():
    assert placeholders.variables("Plain text") == []
    assert placeholders.render("Plain text", {}) == "Plain text"


@pytest.mark.parametrize(
    "body", ["{{}}", "{{ first name }}", "{{1st}}", "{{a-b}}", "Hi {{name", "Hi name}}"]
)
def test_check_refuses_what_is_not_a_placeholder(body):
    with pytest.raises(ValueError, match="variable name"):
        placeholders.check(body)


def test_check_takes_good_placeholders_and_single_braces():
    body = "Hi {{ name }}, your code is {1234} {{a.b_c}} {{{c}}}"

    assert placeholders.check(body) == body
