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


@pytest.mark.parametrize(
    ("reply", "verdict"),
    [
        ("Clear and short.\nSCORE: 7", 7.0),
        ("score: 3 at first... on reflection\n**SCORE:** 8.5", 8.5),
        ("SCORE = 8/10", 8.0),
        ("Score: **PASS**", True),
        ("It misses the price.\nSCORE: fail", False),
        ("9", 9.0),
        (" PASS. ", True),
    ],
)
def test_a_judges_verdict_is_parsed_from_its_last_score_line(
    reply: str, verdict: float | bool
) -> None:
    found = scorers.parse_verdict(reply)
    assert found == verdict and type(found) is type(verdict)


@pytest.mark.parametrize("reply", ["", "Looks good to me.", "SCORE: great", "scores well"])
def test_a_reply_without_a_score_is_an_error_naming_the_format(reply: str) -> None:
    with pytest.raises(ValueError, match=r'no "SCORE: <number>" or "SCORE: PASS/FAIL"'):
        scorers.parse_verdict(reply)


def test_a_judge_needs_a_model_and_a_rubric_and_scores_only_in_an_experiment() -> None:
    with pytest.raises(yjnb.ValidationError, match="rubric must be a non-empty string"):
        scorers.judge("qwen3-max", " ")
    with pytest.raises(yjnb.ValidationError, match="model must be a model name"):
        scorers.judge("", "Is it short?")
    judge = scorers.judge("qwen3-max", "Is {product} named?")
    asked = judge.prompt("Sell a lamp.", "A lamp!", ROW)
    assert asked.startswith(scorers.JUDGE_INSTRUCTIONS) and asked.endswith("Is lamp named?")
    assert "<answer>\nA lamp!\n</answer>" in asked
    with pytest.raises(TypeError, match=r"inside yjnb\.experiment"):
        judge("text", ROW)
