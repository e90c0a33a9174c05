"""The registry: the only place a protocol's name is looked up; capabilities and one message."""

from __future__ import annotations

import pytest

from yjnb._errors import ValidationError
from yjnb.protocols import NAMES, canonical, capability_problem, create, get, supporting
from yjnb.protocols.base import CAPABILITIES, Protocol


def test_names_aliases_and_casing() -> None:
    assert NAMES == ("yuanjing", "yuanjing-legacy", "openai", "gateway")
    assert canonical(" Legacy ") == "yuanjing-legacy" and canonical("GATEWAY") == "gateway"
    assert canonical("grpc") is None
    with pytest.raises(ValidationError, match="unknown protocol 'grpc'; expected one of"):
        get("grpc")
    for name in NAMES:
        cls = get(name)
        assert issubclass(cls, Protocol) and cls.name == name


def test_every_protocol_declares_defaults_and_known_capabilities() -> None:
    for name in NAMES:
        protocol = create(name, "http://x", "p")
        assert set(protocol.capabilities) <= set(CAPABILITIES)
        for kind in ("chat", "image", "video"):
            assert protocol.default_model(kind)


@pytest.mark.parametrize(
    ("capability", "names"),
    [
        ("chat_images", ["openai", "gateway"]),
        ("chat_files", ["gateway"]),
        ("responses", ["openai"]),
        ("remix", ["openai", "gateway"]),
        ("task_detail", ["gateway"]),
        ("platform", ["gateway"]),
    ],
)
def test_capabilities_are_declared_once(capability: str, names: list[str]) -> None:
    assert supporting(capability) == names


def test_one_message_per_capability() -> None:
    assert capability_problem(create("openai"), "remix", "oa") is None
    assert capability_problem(create("openai"), "chat_files", "oa") == (
        "files need a gateway profile; profile 'oa' uses openai"
    )
    assert capability_problem(create("legacy"), "responses", "old") == (
        "api='responses' needs an openai profile; profile 'old' uses yuanjing-legacy"
    )


def test_histories_live_in_their_protocols() -> None:
    turns = [("hi", "hello")]
    prompt, extra = create("yuanjing").history("and you?", "be brief", turns)
    assert prompt.startswith("<history>\n<user>\nhi\n</user>") and prompt.endswith("and you?")
    assert extra == {}
    prompt, extra = create("openai").history("and you?", "be brief", turns)
    assert prompt == "and you?"
    assert [m["role"] for m in extra["messages"]] == ["system", "user", "assistant", "user"]
    assert create("gateway").history("first", None, []) == ("first", {})
