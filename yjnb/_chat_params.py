"""The chat parameters (seed 004's table), checked before a chat is sent, on every protocol.

A wrong temperature costs a round trip and comes back as a terse 400; checked here, every
problem is reported at once, in one line each, saying what is allowed. Values may come from a
notebook magic as strings (``temperature=0.7`` arrives as ``"0.7"``), so numeric strings are
accepted and sent as numbers. Other names are passed through unchanged: the usual extras
(`KNOWN_EXTRAS`: ``n``, ``seed``, ``enable_thinking``...) silently, a name close to a checked
one (``max_tokns``) is refused with "did you mean max_tokens", and any other name is sent with
a warning (platforms add options; a typo should not pass unnoticed).

Use `clean_chat_params` in the core's `prepare_chat` (cleaned dict, problems, warnings),
`coerce_chat_params` where a `ValidationError` is wanted, `check_chat_params` where only the
problems are.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from typing import Any

from ._errors import ValidationError

__all__ = [
    "CHAT_PARAMS",
    "KNOWN_EXTRAS",
    "check_chat_params",
    "clean_chat_params",
    "coerce_chat_params",
]

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
# Passed through unchecked and without a warning: options of the OpenAI chat API and of the
# Qwen models behind the Yuanjing platform, and `messages` (a conversation's history).
KNOWN_EXTRAS = frozenset(
    {
        "messages", "n", "seed", "tools", "tool_choice", "parallel_tool_calls",
        "response_format", "stream_options", "logprobs", "top_logprobs", "logit_bias",
        "reasoning_effort", "modalities", "metadata", "store", "service_tier", "top_k",
        "repetition_penalty", "enable_thinking", "thinking_budget", "enable_search",
        "max_completion_tokens", "instructions", "reasoning", "text", "stream",
    }
)  # fmt: skip
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
    if math.isnan(number):  # NaN passes no comparison, and JSON cannot carry it
        problems.append(f"{name} is not a number (NaN); allowed: {allowed}")
        return None
    if not low <= number <= high:
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


def _check_one(name: str, value: Any, problems: list[str]) -> Any:
    if name in _RANGES:
        return _number(name, value, problems)
    if name == "max_tokens":
        return _max_tokens(value, problems)
    if name == "stop":
        return _stop(value, problems)
    return _user(value, problems)


def clean_chat_params(params: Mapping[str, Any]) -> tuple[dict[str, Any], list[str], list[str]]:
    """(the parameters to send, the problems, the warnings). Checked keys with value None
    are dropped; a name close to a checked one is a problem, any other unknown name a
    warning (it is still sent)."""
    out: dict[str, Any] = {}
    problems: list[str] = []
    unknown: list[str] = []
    for name, value in params.items():
        if name in CHAT_PARAMS:
            if value is not None:
                result = _check_one(name, value, problems)
                if result is not None:
                    out[name] = result
            continue
        close = (
            []
            if name in KNOWN_EXTRAS
            else difflib.get_close_matches(name, list(CHAT_PARAMS), n=1, cutoff=0.8)
        )
        if close:
            allowed = ", ".join(CHAT_PARAMS)
            problems.append(
                f"unknown chat parameter {name!r} (did you mean {close[0]}?); checked: {allowed}"
            )
            continue
        if name not in KNOWN_EXTRAS:
            unknown.append(name)
        out[name] = value
    warnings = []
    if unknown:
        names = ", ".join(repr(n) for n in unknown)
        warnings.append(f"chat parameter(s) {names} not known to yjnb; sent as given")
    return out, problems, warnings


def check_chat_params(params: Mapping[str, Any]) -> list[str]:
    """Every problem with the chat parameters in `params`, one line each; empty if fine.
    None values count as not given."""
    return clean_chat_params(params)[1]


def coerce_chat_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """`params` ready to send: numeric strings as numbers (``"0.7"`` -> 0.7, ``"100"`` ->
    100), a tuple of stop strings as a list, checked keys given as None left out, other keys
    unchanged. Raises `ValidationError` listing every problem at once."""
    out, problems, _ = clean_chat_params(params)
    if problems:
        raise ValidationError(problems)
    return out
