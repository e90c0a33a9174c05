"""Validation has one home (issue #12): a cell's requests are checked once, by the core,
before anything is sent, and the checked requests are sent as they are."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from IPython.core.error import UsageError

from yjnb import _prepare
from yjnb._catalog import Catalog

CHAT = "POST /llmage/v1/chat/completions"
VIDEO = "POST /llmage/v1/video/generations"


def counting(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[Any]:
    """Wrap the real `owner.name` so that each call is noted (it still runs)."""
    calls: list[Any] = []
    real: Callable[..., Any] = getattr(owner, name)

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, spy)
    return calls


def test_a_chat_cell_checks_each_model_once(
    ip: Any, emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks = counting(monkeypatch, _prepare, "clean_chat_params")
    ip.run_cell_magic("yj_chat", "-m qwen3-max,qwen-plus temperature=0.2", "你好")
    assert len(checks) == 2  # one per model; sending does not check again
    assert emulator.count(CHAT) == 2


def test_a_bad_chat_parameter_on_yuanjing_sends_nothing_for_any_model(
    ip: Any, emulator: Any
) -> None:
    """temperature=3 used to be sent on Yuanjing, and max_tokns=5 passed silently."""
    with pytest.raises(UsageError) as err:
        ip.run_cell_magic("yj_chat", "-m qwen3-max,qwen-plus temperature=3 max_tokns=5", "hi")
    message = str(err.value)
    assert message.startswith("nothing was sent; 2 problems: temperature 3 is out of range")
    assert "'max_tokns' (did you mean max_tokens?)" in message and "\n" not in message
    assert emulator.count(CHAT) == 0


def test_a_video_cell_checks_once_and_sends_what_it_checked(
    ip: Any, emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepares = counting(monkeypatch, Catalog, "prepare")
    infers = counting(monkeypatch, Catalog, "infer_catelog")
    ip.run_line_magic("yj_video", "-m viduq3-pro duration=2 -o t a cat")
    assert (len(prepares), len(infers)) == (1, 1)
    assert emulator.count(VIDEO) == 1
    assert ip.user_ns["t"].params == {"duration": 2}  # the checked (coerced) value was sent
