"""The one home of validation: `prepare_chat` and `prepare_task`, on every protocol."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

import yjnb
from yjnb._errors import ValidationError
from yjnb._prepare import prepare_chat, prepare_task
from yjnb.protocols import NAMES, create

# protocol -> (its platform, the path its chat is sent to)
CHAT_PATHS = {
    "yuanjing": (None, "/llmage/v1/chat/completions"),
    "yuanjing-legacy": (None, "/llmage/v1/chat/completions"),
    "openai": (None, "/v1/chat/completions"),
    "gateway": ("google", "/google/v1/chat/completions"),
}


@pytest.fixture(params=NAMES)
def protocol_kwargs(request: Any, client_kwargs: dict[str, Any]) -> dict[str, Any]:
    platform, _ = CHAT_PATHS[request.param]
    return {**client_kwargs, "protocol": request.param, "platform": platform}


def chat_count(emulator: Any, kwargs: dict[str, Any]) -> int:
    return emulator.count("POST " + CHAT_PATHS[kwargs["protocol"]][1])


def test_chat_parameters_are_checked_on_every_protocol(
    protocol_kwargs: dict[str, Any], emulator: Any
) -> None:
    client = yjnb.Client(**protocol_kwargs)
    with pytest.raises(ValidationError) as info:
        client.chat("hi", temperature=3)
    assert "temperature 3 is out of range; allowed: 0.0-1.0" in str(info.value)
    with pytest.raises(ValidationError, match=r"'max_tokns' \(did you mean max_tokens\?\)"):
        client.chat("hi", max_tokns=5)
    assert chat_count(emulator, protocol_kwargs) == 0


def test_unknown_chat_parameters_pass_with_one_warning(
    protocol_kwargs: dict[str, Any], emulator: Any, records: list[Any]
) -> None:
    client = yjnb.Client(**protocol_kwargs)
    with pytest.warns(yjnb.YJWarning, match=r"'frobnicate', 'colour' not known to yjnb") as seen:
        result = client.chat("hi", frobnicate=1, colour="red", seed=7)
    assert [w.category for w in seen].count(yjnb.YJWarning) == 1 and result.text
    assert chat_count(emulator, protocol_kwargs) == 1
    assert records[-1].params == {"frobnicate": 1, "colour": "red", "seed": 7}
    with warnings.catch_warnings():
        warnings.simplefilter("error", yjnb.YJWarning)  # the usual extras: no warning
        client.chat("hi", seed=7, n=1)


def test_every_problem_in_one_error_before_sending(client_kwargs: dict[str, Any]) -> None:
    protocol = create("yuanjing", client_kwargs["base_url"])
    with pytest.raises(ValidationError) as info:
        prepare_chat(
            protocol, " ", model="qwen3-max", profile="yuanjing", images=["a.png"],
            api="responses", params={"temperature": "hot"},
        )  # fmt: skip
    assert info.value.problems == [
        "prompt is empty; give the question as a non-empty string",
        "images need an openai or gateway profile; profile 'yuanjing' uses yuanjing",
        "api='responses' needs an openai profile; profile 'yuanjing' uses yuanjing",
        "images: no such file: 'a.png'",
        "temperature must be a number, got 'hot'; allowed: 0.0-1.0",
    ]


def test_tasks_list_every_problem_of_protocol_and_catalog(client_kwargs: dict[str, Any]) -> None:
    yuanjing = create("yuanjing", client_kwargs["base_url"])
    with pytest.raises(ValidationError) as info:
        prepare_task(
            yuanjing, "video", "a cat", model="viduq3-pro", profile="p", remix_of="v1",
            params={"duration": 99, "ratio": "2:1"},
        )  # fmt: skip
    problems = info.value.problems
    assert problems[0] == "remix needs an openai or gateway profile; profile 'p' uses yuanjing"
    assert any(p.startswith("duration 99") for p in problems)
    assert any(p.startswith("ratio '2:1'") for p in problems)

    legacy = create("legacy")
    with pytest.raises(ValidationError, match="yuanjing-legacy protocol has no image endpoint"):
        prepare_task(legacy, "image", "a cat", model="wan2.2-t2i-flash", profile="legacy")
    gateway = create("gateway", "http://gw")
    with pytest.raises(ValidationError, match="the gateway protocol needs a platform"):
        prepare_task(gateway, "video", "a cat", model="veo-3.1", profile="gw")
    checked = prepare_task(gateway, "video", "a cat", model="veo-3.1", profile="gw", platform="g")
    assert (checked.platform, checked.request.catelog) == ("g", "t2v")


@pytest.mark.parametrize(
    ("protocol", "platform", "chat"),
    [
        ("yuanjing", None, "qwen3-max"),
        ("openai", None, "gemini-2.5-flash"),
        ("gateway", "google", "gemini-2.5-flash"),
        ("gateway", "openai", "gpt-4o-mini"),
    ],
)
def test_one_default_model_table_per_protocol(
    client_kwargs: dict[str, Any], records: list[Any], protocol: str, platform: str, chat: str
) -> None:
    """A gateway profile on its openai platform used gemini-2.5-flash in Python but gpt-4o-mini
    in %%yj_chat: both now ask the protocol."""
    client = yjnb.Client(**client_kwargs, protocol=protocol, platform=platform)
    assert client.protocol.default_model("chat") == chat
    client.chat("hi")
    assert records[-1].model == chat
    # A per-call platform picks that platform's defaults.
    if protocol == "gateway":
        assert client.prepare_chat("hi", platform="openai").model == "gpt-4o-mini"
        assert client.prepare_task("video", "a cat", platform="openai").model == "sora-2"


def test_an_unknown_model_is_warned_once_from_the_callers_line(
    client_kwargs: dict[str, Any], emulator: Any
) -> None:
    """It was warned twice, once from an asyncio file: the sync client ran the check on its
    event-loop thread. Now the check runs in the caller's thread."""
    client = yjnb.Client(**client_kwargs)
    with pytest.warns(yjnb.YJWarning) as seen, pytest.raises(yjnb.BadRequestError):
        client.video("a cat", model="viduq3-pr", wait=False)  # the platform does not know it
    ours = [w for w in seen if w.category is yjnb.YJWarning]
    assert len(ours) == 1 and ours[0].filename == __file__
    assert "(did you mean viduq3-pro?)" in str(ours[0].message)
    with pytest.warns(yjnb.YJWarning) as seen:
        client.chat("hi", frobnicate=1)
    assert [w.filename for w in seen if w.category is yjnb.YJWarning] == [__file__]
