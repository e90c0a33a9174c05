"""Estimates, always marked as such: tokens of a text, and credits from a user's price table.

The Yuanjing platform reports no credits for chat, and an interrupted stream ends before its
usage chunk: what yjnb shows then is "not reported", or an estimate ("≈", "est.") when it
can make one. It never shows such a number as if the platform had said it.

A price table maps a model to credits per 1,000 tokens:

    [models."qwen3-max"]
    input = 0.0024     # per 1,000 prompt tokens
    output = 0.0096    # per 1,000 completion tokens

or `tokens = 0.005` (per 1,000 tokens, prompt and completion alike). It comes from
`YJ_HOME/prices.toml` or `%config YJMagics.prices` (`yjnb._prices`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._errors import ValidationError
from ._types import Usage

__all__ = ["Price", "PriceTable", "estimate_tokens", "estimated_usage", "parse_prices"]

# Measured on the platform's own answer (seed 002: 100 Chinese characters, 60 tokens); for
# other scripts the usual four characters a token.
_CJK_TOKENS_PER_CHAR = 0.6
_CHARS_PER_TOKEN = 4.0
_FIELDS = ("input", "output", "tokens")


def estimate_tokens(text: str) -> int:
    """About how many tokens `text` is (0 for no text, at least 1 for some)."""
    if not text:
        return 0
    wide = sum(1 for ch in text if ord(ch) >= 0x2E80)  # CJK and other wide scripts
    guess = wide * _CJK_TOKENS_PER_CHAR + (len(text) - wide) / _CHARS_PER_TOKEN
    return max(1, math.ceil(guess))


def estimated_usage(prompt: str, received: str) -> Usage:
    """The tokens of a call whose usage never came (an interrupted stream), estimated."""
    sent, got = estimate_tokens(prompt), estimate_tokens(received)
    return Usage(prompt_tokens=sent, completion_tokens=got, total_tokens=sent + got)


@dataclass(frozen=True)
class Price:
    """Credits per 1,000 tokens: prompt (`input`) and completion (`output`) tokens."""

    input: float
    output: float

    def credits(self, usage: Usage) -> float:
        prompt, completion = usage.prompt_tokens, usage.completion_tokens
        if not (prompt or completion):  # only a total is known
            prompt = usage.total_tokens
        return (prompt * self.input + completion * self.output) / 1000.0


class PriceTable:
    """Model name -> `Price`. Empty: no estimates."""

    def __init__(self, prices: Mapping[str, Price] | None = None) -> None:
        self.prices = dict(prices or {})

    def __bool__(self) -> bool:
        return bool(self.prices)

    def __repr__(self) -> str:
        return f"PriceTable({sorted(self.prices)})"

    def estimate(self, model: str | None, usage: Usage | None) -> float | None:
        """Estimated credits of a call, or None without a price for `model` or tokens."""
        price = self.prices.get(str(model or ""))
        if price is None or usage is None or not usage.total_tokens:
            return None
        return round(price.credits(usage), 6)


def _number(model: str, field: str, value: Any, problems: list[str]) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        problems.append(f"{model}.{field} must be a number of credits >= 0, not {value!r}")
        return 0.0
    return float(value)


def parse_prices(data: Mapping[str, Any]) -> PriceTable:
    """A table from `{"models": {name: {...}}}` (the TOML file) or `{name: {...}}`; one
    `ValidationError` listing every problem."""
    models = data.get("models", data) if isinstance(data, Mapping) else None
    if not isinstance(models, Mapping):
        raise ValidationError('prices: expected a table of models, like [models."qwen3-max"]')
    problems: list[str] = []
    prices: dict[str, Price] = {}
    for model, entry in models.items():
        if not isinstance(entry, Mapping) or not entry:
            problems.append(f"{model}: expected input = and output = (or tokens =)")
            continue
        unknown = sorted(set(entry) - set(_FIELDS))
        if unknown:
            problems.append(f"{model}: unknown {', '.join(unknown)}; allowed: {', '.join(_FIELDS)}")
        both = _number(model, "tokens", entry["tokens"], problems) if "tokens" in entry else None
        low = _number(model, "input", entry.get("input", both or 0), problems)
        high = _number(model, "output", entry.get("output", both or 0), problems)
        prices[str(model)] = Price(input=low, output=high)
    if problems:
        raise ValidationError([f"prices: {p}" for p in problems])
    return PriceTable(prices)
