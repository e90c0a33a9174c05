"""The OpenAI-style chat parameters (seed 004's table), checked before a chat is sent.

A wrong temperature costs a round trip and comes back as a terse 400; checked here, every
problem is reported at once, in one line each, saying what is allowed. Values may come from a
notebook magic as strings (``temperature=0.7`` arrives as ``"0.7"``), so numeric strings are
accepted and sent as numbers. Keys this module does not know (``stream``, ``n``, a vendor's
own options) are none of its business: they are passed through unchanged.

Use `coerce_chat_params` in a client (it returns the cleaned dict or raises one
`ValidationError`), `check_chat_params` where only the problems are wanted.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from ._errors import ValidationError

__all__ = ["CHAT_PARAMS", "check_chat_params", "coerce_chat_params"]

# name -> (low, high) for the numbers; seed 004: temperature and top_p 0.0-1.0, the penalties
# -2.0-2.0. max_tokens is a positive integer, stop a string or a list of strings, user a string.
_RANGES: dict[str, tuple[float, float]] = {
    "temperature": (0.0, 1.0),
    "top_p": (0.0, 1.0),
    "frequency_penalty": (-2.0, 2.0),
    "presence_penalty": (-2.0, 2.0),
}
# What each checked parameter allows, as problems show it (also handy for help texts).
CHAT_PARAMS: dict[str, str] = {
    "temperature": "0.0-1.0",
    "top_p": "0.0-1.0",
    "max_tokens": "a positive integer",
    "stop": "a string or a list of strings",
    "frequency_penalty": "-2.0 to 2.0",
    "presence_penalty": "-2.0 to 2.0",
    "user": "a string",
}
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _number(name: str, value: Any, problems: list[str]) -> float | None:
    low, high = _RANGES[name]
    allowed = CHAT_PARAMS[name]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        number = float(value.strip())
    else:
        problems.append(f"{name} must be a number, got {_show(value)}; allowed: {allowed}")
        return None
    if math.isnan(number) or not low <= number <= high:
        problems.append(f"{name} {number:g} is out of range; allowed: {allowed}")
        return None
    return number


def _max_tokens(value: Any, problems: list[str]) -> int | None:
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        number = int(value.strip())
    if number is None:
        problems.append(f"max_tokens must be a positive integer, got {_show(value)}")
    elif number < 1:
        problems.append(f"max_tokens {number} is out of range; allowed: a positive integer")
    else:
        return number
    return None


def _stop(value: Any, problems: list[str]) -> str | list[str] | None:
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    if isinstance(value, (list, tuple)):
        odd = next(type(v).__name__ for v in value if not isinstance(v, str))
        got = f"a list holding {odd}"
    else:
        got = type(value).__name__
    problems.append(f"stop must be a string or a list of strings, got {got}")
    return None


def _user(value: Any, problems: list[str]) -> str | None:
    if isinstance(value, str):
        return value
    problems.append(f"user must be a string, got {type(value).__name__}")
    return None


def _clean(params: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """(the parameters to send, the problems). Checked keys with value None are dropped."""
    out: dict[str, Any] = {}
    problems: list[str] = []
    for name, value in params.items():
        if name not in CHAT_PARAMS:
            out[name] = value
            continue
        if value is None:
            continue
        result: Any
        if name in _RANGES:
            result = _number(name, value, problems)
        elif name == "max_tokens":
            result = _max_tokens(value, problems)
        elif name == "stop":
            result = _stop(value, problems)
        else:
            result = _user(value, problems)
        if result is not None:
            out[name] = result
    return out, problems


def check_chat_params(params: Mapping[str, Any]) -> list[str]:
    """Every problem with the chat parameters in `params`, one line each; empty if fine.
    Unknown keys are ignored, None values count as not given."""
    return _clean(params)[1]


def coerce_chat_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """`params` ready to send: numeric strings as numbers (``"0.7"`` -> 0.7, ``"100"`` ->
    100), a tuple of stop strings as a list, checked keys given as None left out, unknown keys
    unchanged. Raises `ValidationError` listing every problem at once."""
    out, problems = _clean(params)
    if problems:
        raise ValidationError(problems)
    return out
