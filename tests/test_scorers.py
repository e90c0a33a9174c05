"""The built-in scorers of `yjnb.scorers`."""

from __future__ import annotations

import pytest

import yjnb
from yjnb import scorers

ROW = {"product": "lamp", "answer": "42"}
SCHEMA = {
    "type": "object",
    "required": ["name", "price"],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "price": {"type": "number", "minimum": 0},
        "tags": {"type": "array", "items": {"enum": ["new", "sale"]}, "maxItems": 2},
    },
    "additionalProperties": False,
}


def test_contains_reads_a_column_or_the_text() -> None:
    assert scorers.contains("product")("A fine LAMP, a lamp", ROW) is True
    assert scorers.contains("chair")("A fine lamp", ROW) is False
    assert scorers.contains("Lamp", case=False)("a lamp", ROW) is True


def test_regex_equals_length() -> None:
    assert scorers.regex(r"\d{2}")("answer: 42", ROW) is True
    assert scorers.regex(r"^\d+$")("answer: 42", ROW) is False
    assert scorers.equals("answer")("  42\n", ROW) is True
    assert scorers.equals("answer")("43", ROW) is False
    with pytest.raises(KeyError, match="no column 'missing'; columns: product, answer"):
        scorers.equals("missing")("x", ROW)
    assert scorers.length()("héllo", ROW) == 5


def test_is_json_accepts_a_fenced_block() -> None:
    assert scorers.is_json()('{"a": 1}', ROW) is True
    assert scorers.is_json()('```json\n{"a": 1}\n```', ROW) is True
    assert scorers.is_json()("{a: 1}", ROW) is False


@pytest.mark.parametrize(
    ("text", "violation"),
    [
        ('{"name": "lamp", "price": 3, "tags": ["new"]}', None),
        ('{"name": "lamp"}', "$.price is missing"),
        ('{"name": "", "price": 3}', "$.name: minLength 1"),
        ('{"name": "lamp", "price": -1}', "$.price < 0"),
        ('{"name": "lamp", "price": "3"}', "$.price is not number"),
        ('{"name": "lamp", "price": 3, "tags": ["old"]}', "$.tags[0] is not one of"),
        ('{"name": "lamp", "price": 3, "tags": ["new", "sale", "new"]}', "$.tags: maxItems 2"),
        ('{"name": "lamp", "price": 3, "color": "red"}', "$.color is not allowed"),
        ("[1]", "$ is not object"),
        ("nope", "not JSON"),
    ],
)
def test_json_schema(text: str, violation: str | None) -> None:
    assert scorers.json_schema(SCHEMA)(text, ROW) is (violation is None)
    found = scorers.json_schema_violation(text, SCHEMA)
    assert found == violation if violation is None else found.startswith(violation)


def test_json_schema_refuses_what_it_cannot_check() -> None:
    with pytest.raises(yjnb.ValidationError, match="'pattern' is not supported"):
        scorers.json_schema({"type": "string", "pattern": "^a"})
    with pytest.raises(yjnb.ValidationError, match="type 'date'"):
        scorers.json_schema({"properties": {"when": {"type": "date"}}})
