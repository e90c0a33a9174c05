"""`check_chat_params`, `coerce_chat_params` and `clean_chat_params`: seed 004's chat
parameter table."""

from __future__ import annotations

from typing import Any

import pytest

from yjnb._chat_params import (
    CHAT_PARAMS,
    KNOWN_EXTRAS,
    check_chat_params,
    clean_chat_params,
    coerce_chat_params,
)
from yjnb._errors import ValidationError


def test_clean_reports_near_misses_and_warns_about_unknown_names() -> None:
    assert {"seed", "enable_thinking"} <= KNOWN_EXTRAS
    params = {"max_tokns": 5, "foo": 1, "seed": 3, "enable_thinking": True, "top_p": "0.5"}
    clean, problems, warnings = clean_chat_params(params)
    assert problems == [
        "unknown chat parameter 'max_tokns' (did you mean max_tokens?); checked: temperature, "
        "top_p, max_tokens, stop, frequency_penalty, presence_penalty, user"
    ]
    assert warnings == ["chat parameter(s) 'foo' not known to yjnb; sent as given"]
    assert clean == {"foo": 1, "seed": 3, "enable_thinking": True, "top_p": 0.5}
    assert check_chat_params(params) == problems
    assert clean_chat_params({"seed": 3, "enable_thinking": True}) == (
        {"seed": 3, "enable_thinking": True},
        [],
        [],
    )


def test_the_checked_names() -> None:
    assert sorted(CHAT_PARAMS) == [
        "frequency_penalty",
        "max_tokens",
        "presence_penalty",
        "stop",
        "temperature",
        "top_p",
        "user",
    ]


def test_good_values_pass_and_are_coerced() -> None:
    given = {
        "temperature": "0.7",
        "top_p": 1,
        "max_tokens": "1000",
        "stop": ("\n\n", "END"),
        "frequency_penalty": "-2",
        "presence_penalty": 1.5,
        "user": "u-1",
    }
    assert check_chat_params(given) == []
    out = coerce_chat_params(given)
    assert out == {
        "temperature": 0.7,
        "top_p": 1.0,
        "max_tokens": 1000,
        "stop": ["\n\n", "END"],
        "frequency_penalty": -2.0,
        "presence_penalty": 1.5,
        "user": "u-1",
    }
    assert type(out["max_tokens"]) is int and type(out["top_p"]) is float


@pytest.mark.parametrize(
    ("name", "value", "sent"),
    [
        ("temperature", 0, 0.0),
        ("temperature", "1.0", 1.0),
        ("temperature", " .5 ", 0.5),
        ("top_p", "0", 0.0),
        ("top_p", "1e-1", 0.1),
        ("frequency_penalty", 2, 2.0),
        ("presence_penalty", "+0.25", 0.25),
        ("max_tokens", 1, 1),
        ("max_tokens", 256.0, 256),
        ("max_tokens", " 8 ", 8),
        ("stop", "###", "###"),
        ("stop", [], []),
        ("user", "", ""),
    ],
)
def test_accepted_values(name: str, value: Any, sent: Any) -> None:
    assert coerce_chat_params({name: value}) == {name: sent}


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"temperature": 1.5}, "temperature 1.5 is out of range; allowed: 0.0-1.0"),
        ({"temperature": "1.5"}, "temperature 1.5 is out of range; allowed: 0.0-1.0"),
        ({"temperature": -0.1}, "temperature -0.1 is out of range; allowed: 0.0-1.0"),
        ({"temperature": float("nan")}, "temperature is not a number (NaN); allowed: 0.0-1.0"),
        ({"temperature": "hot"}, "temperature must be a number, got 'hot'; allowed: 0.0-1.0"),
        ({"temperature": "nan"}, "temperature must be a number, got 'nan'; allowed: 0.0-1.0"),
        ({"temperature": True}, "temperature must be a number, got True; allowed: 0.0-1.0"),
        ({"top_p": 2}, "top_p 2 is out of range; allowed: 0.0-1.0"),
        ({"top_p": ""}, "top_p must be a number, got ''; allowed: 0.0-1.0"),
        (
            {"frequency_penalty": "-2.5"},
            "frequency_penalty -2.5 is out of range; allowed: -2.0 to 2.0",
        ),
        ({"presence_penalty": 3}, "presence_penalty 3 is out of range; allowed: -2.0 to 2.0"),
        (
            {"presence_penalty": [1]},
            "presence_penalty must be a number, got [1]; allowed: -2.0 to 2.0",
        ),
        ({"max_tokens": 0}, "max_tokens 0 is out of range; allowed: a positive integer"),
        ({"max_tokens": "-5"}, "max_tokens -5 is out of range; allowed: a positive integer"),
        ({"max_tokens": "1.5"}, "max_tokens must be a positive integer, got '1.5'"),
        ({"max_tokens": 10.5}, "max_tokens must be a positive integer, got 10.5"),
        ({"max_tokens": False}, "max_tokens must be a positive integer, got False"),
        ({"stop": 5}, "stop must be a string or a list of strings, got int"),
        ({"stop": ["a", 1]}, "stop must be a string or a list of strings, got a list holding int"),
        ({"user": 42}, "user must be a string, got int"),
    ],
)
def test_rejected_values(params: dict[str, Any], problem: str) -> None:
    assert check_chat_params(params) == [problem]
    with pytest.raises(ValidationError) as info:
        coerce_chat_params(params)
    assert info.value.problems == [problem]


def test_every_problem_at_once_in_order() -> None:
    params = {"temperature": 1.5, "model": "x", "max_tokens": "lots", "user": 1, "top_p": 0.5}
    expected = [
        "temperature 1.5 is out of range; allowed: 0.0-1.0",
        "max_tokens must be a positive integer, got 'lots'",
        "user must be a string, got int",
    ]
    assert check_chat_params(params) == expected
    with pytest.raises(ValidationError) as info:
        coerce_chat_params(params)
    assert info.value.problems == expected
    assert str(info.value) == "; ".join(expected)


def test_unknown_keys_pass_through_unchanged() -> None:
    marker = object()
    params = {"stream": True, "n": "2", "seed": marker, "temperature": "0.2", "extra": None}
    assert check_chat_params(params) == []
    out = coerce_chat_params(params)
    assert out == {"stream": True, "n": "2", "seed": marker, "temperature": 0.2, "extra": None}
    assert out["seed"] is marker


def test_none_means_not_given() -> None:
    assert check_chat_params({"temperature": None, "stop": None}) == []
    assert coerce_chat_params({"temperature": None, "max_tokens": 5}) == {"max_tokens": 5}


def test_input_is_not_modified() -> None:
    params = {"temperature": "0.5", "stop": ("a",)}
    coerce_chat_params(params)
    assert params == {"temperature": "0.5", "stop": ("a",)}


def test_empty() -> None:
    assert check_chat_params({}) == []
    assert coerce_chat_params({}) == {}
