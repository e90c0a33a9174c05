"""Built-in scorers for `yjnb.experiment(scorers={...})`.

A scorer is any callable `(text, row) -> bool | float | str`, where `row` is the data row as
a dict; each built-in below returns one. A scorer that raises gives its cell an error in its
score column (`"error: ..."`); the row itself is never lost.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "JUDGE_INSTRUCTIONS",
    "Judge",
    "Scorer",
    "contains",
    "equals",
    "is_json",
    "json_schema",
    "json_schema_violation",
    "judge",
    "length",
    "parse_verdict",
    "regex",
]

Scorer = Callable[[str, Mapping[str, Any]], Any]


def contains(text_or_column: str, *, case: bool = True) -> Scorer:
    """True when the answer contains the text; a name of a data column means that row's value."""

    def score(text: str, row: Mapping[str, Any]) -> bool:
        needle = str(row[text_or_column]) if text_or_column in row else text_or_column
        if not case:
            return needle.casefold() in text.casefold()
        return needle in text

    return score


def regex(pattern: str, *, flags: int = 0) -> Scorer:
    """True when the pattern matches somewhere in the answer (`re.search`)."""
    compiled = re.compile(pattern, flags)

    def score(text: str, row: Mapping[str, Any]) -> bool:
        return compiled.search(text) is not None

    return score


def equals(column: str, *, case: bool = True) -> Scorer:
    """True when the answer, stripped, equals the row's value in `column`, stripped."""

    def score(text: str, row: Mapping[str, Any]) -> bool:
        if column not in row:
            raise KeyError(f"no column {column!r}; columns: {', '.join(map(str, row))}")
        want, got = str(row[column]).strip(), text.strip()
        return want.casefold() == got.casefold() if not case else want == got

    return score


def _parse_json(text: str) -> Any:
    """The answer as JSON, a ```json fenced block included."""
    body = text.strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", body, re.DOTALL)
    return json.loads(fenced.group(1) if fenced else body)


def is_json() -> Scorer:
    """True when the answer is valid JSON (a ```json fenced block counts)."""

    def score(text: str, row: Mapping[str, Any]) -> bool:
        try:
            _parse_json(text)
        except ValueError:
            return False
        return True

    return score


def length() -> Scorer:
    """The answer's length in characters."""

    def score(text: str, row: Mapping[str, Any]) -> int:
        return len(text)

    return score


_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}
SCHEMA_KEYWORDS = frozenset(
    {"type", "properties", "required", "additionalProperties", "items", "enum", "minimum",
     "maximum", "minLength", "maxLength", "minItems", "maxItems", "title", "description"}
)  # fmt: skip


def _schema_problems(schema: Any, where: str = "schema") -> list[str]:
    """What of `schema` this subset validator does not understand."""
    if not isinstance(schema, Mapping):
        return [f"{where} must be a dict"]
    problems = [f"{where}: {k!r} is not supported" for k in schema if k not in SCHEMA_KEYWORDS]
    kinds = schema.get("type")
    for kind in kinds if isinstance(kinds, list) else [kinds] if kinds is not None else []:
        if kind not in _TYPES:
            problems.append(f"{where}: type {kind!r} is not one of {', '.join(_TYPES)}")
    for name, sub in (schema.get("properties") or {}).items():
        problems += _schema_problems(sub, f"{where}.properties.{name}")
    if isinstance(schema.get("items"), Mapping):
        problems += _schema_problems(schema["items"], f"{where}.items")
    return problems


def _violation(value: Any, schema: Mapping[str, Any], where: str) -> str | None:
    """The first way `value` breaks `schema`, or None."""
    kinds = schema.get("type")
    if kinds is not None:
        allowed = kinds if isinstance(kinds, list) else [kinds]
        if not any(_TYPES[k](value) for k in allowed):
            return f"{where} is not {' or '.join(allowed)}"
    if "enum" in schema and value not in schema["enum"]:
        return f"{where} is not one of {schema['enum']!r}"
    if _TYPES["number"](value):
        if "minimum" in schema and value < schema["minimum"]:
            return f"{where} < {schema['minimum']}"
        if "maximum" in schema and value > schema["maximum"]:
            return f"{where} > {schema['maximum']}"
    sized = {"minLength": str, "maxLength": str, "minItems": list, "maxItems": list}
    for key, kind in sized.items():
        if key in schema and isinstance(value, kind):
            low = key.startswith("min")
            if (len(value) < schema[key]) if low else (len(value) > schema[key]):
                return f"{where}: {key} {schema[key]}"
    if isinstance(value, dict):
        return _object_violation(value, schema, where)
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        for i, item in enumerate(value):
            found = _violation(item, schema["items"], f"{where}[{i}]")
            if found:
                return found
    return None


def _object_violation(value: dict[str, Any], schema: Mapping[str, Any], where: str) -> str | None:
    for name in schema.get("required", []):
        if name not in value:
            return f"{where}.{name} is missing"
    properties = schema.get("properties") or {}
    for name, item in value.items():
        if name in properties:
            found = _violation(item, properties[name], f"{where}.{name}")
            if found:
                return found
        elif schema.get("additionalProperties") is False:
            return f"{where}.{name} is not allowed"
    return None


def json_schema(schema: Mapping[str, Any]) -> Scorer:
    """True when the answer is JSON matching `schema` (`json_schema_violation` says why not).

    A subset of JSON Schema: type, properties, required, additionalProperties (false), items,
    enum, minimum/maximum, minLength/maxLength, minItems/maxItems. Anything else is refused
    here, when the scorer is made, rather than silently not checked.
    """
    from ._errors import ValidationError

    problems = _schema_problems(schema)
    if problems:
        raise ValidationError([f"json_schema: {p}" for p in problems])

    def score(text: str, row: Mapping[str, Any]) -> bool:
        return json_schema_violation(text, schema) is None

    return score


def json_schema_violation(text: str, schema: Mapping[str, Any]) -> str | None:
    """Why `text` does not match `schema` (the first violation found), or None if it does."""
    try:
        value = _parse_json(text)
    except ValueError:
        return "not JSON"
    return _violation(value, schema, "$")


JUDGE_INSTRUCTIONS = (
    "You grade an answer to a prompt. Read the prompt, the answer and the rubric, then end "
    'your reply with one line of its own: "SCORE: <number>" (on the scale the rubric gives, '
    '0 to 10 if it gives none), or "SCORE: PASS" or "SCORE: FAIL" if the rubric asks for a '
    "verdict."
)
_VERDICT = re.compile(
    r"score\s*[:=：]?\s*[*_`]*\s*(pass|fail|[-+]?\d+(?:\.\d+)?)(?![\d.])", re.IGNORECASE
)
_BARE = re.compile(r"[*_`\s]*(pass|fail|[-+]?\d+(?:\.\d+)?)\s*(?:/\s*\d+)?[*_`.\s]*", re.I)


def parse_verdict(reply: str) -> float | bool:
    """The score in a judge's reply: the number or PASS/FAIL of its last "SCORE: ..." line
    (`7`, `7.5`, `8/10` -> 8.0, `**PASS**`), else a reply that is only a number or PASS/FAIL.
    PASS is True, FAIL False. Raises ValueError when there is none."""
    found = _VERDICT.findall(reply)
    if not found:
        bare = _BARE.fullmatch(reply)
        found = [bare.group(1)] if bare else []
    if not found:
        shown = reply.strip()[:80]
        raise ValueError(f'no "SCORE: <number>" or "SCORE: PASS/FAIL" in the reply {shown!r}')
    value = found[-1].upper()
    if value in ("PASS", "FAIL"):
        return value == "PASS"
    return float(value)


class Judge:
    """An LLM judge (`judge(model, rubric)`): the run asks `model` about each answer, through
    the same client, limiter, budget, cache and ledger as the cells' own calls."""

    def __init__(self, model: str, rubric: str, params: Mapping[str, Any] | None = None) -> None:
        from ._errors import ValidationError

        if not isinstance(model, str) or not model.strip():
            raise ValidationError("judge: model must be a model name")
        if not isinstance(rubric, str) or not rubric.strip():
            raise ValidationError("judge: rubric must be a non-empty string (a template)")
        self.model, self.rubric, self.params = model, rubric, dict(params or {})

    def prompt(self, question: str, answer: str, row: Mapping[str, Any]) -> str:
        """What the judge is asked. The rubric comes last, filled from the row like a prompt
        template (`{column}`), so it may end with the emulator's `echo:` directive."""
        from ._templates import interpolate

        return (
            f"{JUDGE_INSTRUCTIONS}\n\n<prompt>\n{question}\n</prompt>\n\n<answer>\n{answer}\n"
            f"</answer>\n\nRubric:\n{interpolate(self.rubric, row)}"
        )

    def verdict(self, reply: Mapping[str, Any] | None) -> float | bool:
        """The score of a judged answer (the run's record of the judge's reply)."""
        if reply is None:
            raise ValueError("the judge was not asked: re-run to ask it")
        if reply.get("error"):
            raise ValueError(reply["error"])
        return parse_verdict(str(reply.get("text") or ""))

    def __call__(self, text: str, row: Mapping[str, Any]) -> Any:
        raise TypeError("a judge scores inside yjnb.experiment(scorers=...) only")

    def __repr__(self) -> str:
        return f"judge({self.model!r}, {self.rubric[:40]!r})"


def judge(model: str, rubric: str, *, params: Mapping[str, Any] | None = None) -> Judge:
    """An LLM judge: `model` reads each answer with `rubric` (a template over the row) and
    ends its reply with "SCORE: <number>" or "SCORE: PASS/FAIL" (see `parse_verdict`). Its
    calls are cached, counted against the budget and recorded in the ledger like the cells'.
    `params`: the judge's chat parameters (e.g. `{"temperature": 0}`)."""
    return Judge(model, rubric, params)
