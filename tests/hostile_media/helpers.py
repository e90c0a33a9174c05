"""Checks shared by the hostile media tests: no trace of the key, no raw request in a chain."""

from __future__ import annotations

from typing import Any

import httpx

from .conftest import KEY
from .server import echo


def echoes_of_the_key() -> list[str]:
    """Every form in which the hostile server repeats the key, each split into its lines."""
    forms = (echo(KEY, how) for how in ("raw", "quoted", "split", "truncated"))
    return [part.rstrip("…") for form in forms for part in form.split("\n")]


def assert_no_key(*texts: Any) -> None:
    for text in texts:
        for form in echoes_of_the_key():
            assert form not in str(text), f"{form!r} leaked in {text!r}"


def chain(exc: BaseException) -> list[BaseException]:
    """The exception and everything it chains, however deep (`__context__`, `__cause__`)."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        todo += [current.__context__, current.__cause__]
    return seen


def assert_chain_clean(exc: BaseException) -> None:
    """No exception in the chain holds an httpx request (with its Authorization header), and
    none mentions the key."""
    for link in chain(exc):
        assert not isinstance(link, httpx.HTTPError), f"chains {type(link).__name__}"
        held = [v for v in vars(link).values() if isinstance(v, (httpx.Request, httpx.Response))]
        assert held == [], f"{type(link).__name__} holds {held}"
        assert_no_key(str(link), repr(link))
