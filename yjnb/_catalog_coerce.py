"""Value coercers for `_catalog.prepare`: one per parameter type, each returning the value to
send or None after appending a one-line problem.

They live apart from `_catalog` so that the catalog module stays readable; they only read the
`Param` and `ModelSpec` they are given. Messages name the parameter, the value and what is
allowed, so a notebook user can fix the call without opening the docs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._catalog_types import ModelSpec, Param

# The aspect ratios of seed 004's `size` (images): a "size" parameter without choices takes
# one of these or a resolution WxH.
SIZE_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")

_YES = {"y", "yes", "true", "1", "on"}
_NO = {"n", "no", "false", "0", "off"}
_RESOLUTION = re.compile(r"(\d+)[x*×](\d+)")

Coercer = Callable[["Param", "ModelSpec", Any, list[str]], Any]


def where(s: ModelSpec) -> str:
    return f"{s.id} ({s.catelog})"


def show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def allowed_choices(choices: tuple[Any, ...]) -> str:
    return ", ".join(str(c) for c in choices)


def as_int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        return int(value)
    return None


def coerce_int(p: Param, s: ModelSpec, value: Any, problems: list[str]) -> int | None:
    number = as_int(value)
    if number is None:
        problems.append(f"{p.name} must be an integer, got {show(value)}")
    elif p.choices is not None and number not in p.choices:
        allowed = allowed_choices(p.choices)
        problems.append(f"{p.name} {number} is not allowed for {where(s)}; allowed: {allowed}")
    elif (p.min is not None and number < p.min) or (p.max is not None and number > p.max):
        if p.min is not None and p.max is not None:
            allowed = f"{p.min}-{p.max}"
        else:
            allowed = f"{p.min} or more" if p.max is None else f"{p.max} or less"
        problems.append(f"{p.name} {number} is out of range for {where(s)}; allowed: {allowed}")
    else:
        return number
    return None


def _choice_key(value: str) -> str:
    return value.strip().lower().replace("×", "*").replace("x", "*")


def coerce_str(p: Param, s: ModelSpec, value: Any, problems: list[str]) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and p.choices:
        value = str(value)
    if not isinstance(value, str):
        problems.append(f"{p.name} must be a string, got {type(value).__name__}")
        return None
    if p.choices is None:
        return value
    key = _choice_key(value)
    for choice in p.choices:
        if _choice_key(str(choice)) == key:
            return str(choice)
    problems.append(
        f"{p.name} {value!r} is not allowed for {where(s)}; allowed: {allowed_choices(p.choices)}"
    )
    return None


def coerce_yn(p: Param, s: ModelSpec, value: Any, problems: list[str]) -> str | None:
    if isinstance(value, bool):
        return "Y" if value else "N"
    text = str(value).strip().lower() if isinstance(value, (str, int)) else None
    if text in _YES:
        return "Y"
    if text in _NO:
        return "N"
    problems.append(f"{p.name} {show(value)} is not allowed for {where(s)}; allowed: Y, N")
    return None


def size_key(value: str) -> str:
    """``" 1024 × 1024 "`` -> ``1024x1024``, ``"16 : 9"`` -> ``16:9``: the form sent."""
    text = re.sub(r"\s+", "", value).lower()
    match = _RESOLUTION.fullmatch(text)
    return f"{int(match[1])}x{int(match[2])}" if match else text


def coerce_size(p: Param, s: ModelSpec, value: Any, problems: list[str]) -> str | None:
    """An aspect ratio from `SIZE_RATIOS` or a resolution WxH (``*`` and ``×`` read as ``x``);
    with `choices`, only those (the model's documented sizes)."""
    if not isinstance(value, str):
        problems.append(
            f"{p.name} must be a string like 16:9 or 1024x1024, got {type(value).__name__}"
        )
        return None
    key = size_key(value)
    if p.choices is not None:
        for choice in p.choices:
            if size_key(str(choice)) == key:
                return str(choice)
        allowed = allowed_choices(p.choices)
        problems.append(f"{p.name} {value!r} is not allowed for {where(s)}; allowed: {allowed}")
        return None
    if key in SIZE_RATIOS:
        return key
    match = _RESOLUTION.fullmatch(key)
    if match and int(match[1]) > 0 and int(match[2]) > 0:
        return key
    problems.append(
        f"{p.name} {value!r} is not allowed for {where(s)}; allowed: an aspect ratio "
        f"({', '.join(SIZE_RATIOS)}) or a resolution WxH like 1024x1024"
    )
    return None


COERCERS: dict[str, Coercer] = {
    "int": coerce_int,
    "str": coerce_str,
    "yn": coerce_yn,
    "size": coerce_size,
}
