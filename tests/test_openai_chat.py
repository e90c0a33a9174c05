"""Chat and models on the `openai` and `gateway` protocols, end to end against the emulator."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import yjnb
from yjnb._errors import (
    AuthenticationError,
    BadRequestError,
    ConfigError,
    StreamInterrupted,
    ValidationError,
)

PROTOCOLS = [("openai", None), ("gateway", "google")]
CHAT_MODEL = "gemini-2.5-flash"


@pytest.fixture(params=PROTOCOLS, ids=["openai", "gateway"])
def oa_kwargs(request: Any, client_kwargs: dict[str, Any]) -> dict[str, Any]:
    protocol, platform = request.param
    return {**client_kwargs, "protocol": protocol, "platform": platform}


def root(kwargs: dict[str, Any]) -> str:
    return f"/{kwargs['platform']}/v1" if kwargs["protocol"] == "gateway" else "/v1"


def test_chat_and_stream(oa_kwargs: dict[str, Any], emulator: Any, records: list[Any]) -> None:
    client = yjnb.Client(**oa_kwargs)
    result = client.chat("你好", model=CHAT_MODEL, system="be brief", temperature="0.3")
    assert result.text and result.finish_reason == "stop" and result.id
    assert result.usage is not None and result.usage.total_tokens > 0
    stream = client.chat("tell me more", model=CHAT_MODEL, stream=True, max_tokens=30)
    pieces = [chunk.text for chunk in stream]
    assert stream.result is not None and "".join(pieces) == stream.result.text
    assert len(pieces) > 1 and stream.result.usage is not None  # include_usage was asked for
    assert emulator.count(f"POST {root(oa_kwargs)}/chat/completions") == 2
    assert [(r.kind, r.status, r.params) for r in records] == [
        ("chat", "ok", {"system": "be brief", "temperature": "0.3"}),
        ("chat", "ok", {"max_tokens": 30}),
    ]


def test_chat_parameters_checked_before_sending(oa_kwargs: dict[str, Any], emulator: Any) -> None:
    client = yjnb.Client(**oa_kwargs)
    with pytest.raises(ValidationError) as info:
        client.chat("hi", model=CHAT_MODEL, temperature=1.5, max_tokens=0, stop=3)
    message = str(info.value)
    assert "temperature 1.5 is out of range" in message and "0.0-1.0" in message
    assert "max_tokens" in message and "stop" in message
    assert emulator.count(f"POST {root(oa_kwargs)}/chat/completions") == 0


def test_images_in_chat_are_sent_as_parts(
    oa_kwargs: dict[str, Any], emulator: Any, tmp_path: Path
) -> None:
    photo = Path(__file__).parents[1] / "notebooks" / "assets" / "cat.jpg"
    client = yjnb.Client(**oa_kwargs)
    result = client.chat("what is this?", model=CHAT_MODEL, images=[photo, photo])
    assert "2 images" in result.text
    with pytest.raises(ValidationError, match=r"images: no such file: '.*missing.png'"):
        client.chat("?", model=CHAT_MODEL, images=str(tmp_path / "missing.png"))
    assert emulator.count(f"POST {root(oa_kwargs)}/chat/completions") == 1


def test_history_travels_as_messages(oa_kwargs: dict[str, Any]) -> None:
    messages = [
        {"role": "user", "content": "my name is Ada"},
        {"role": "assistant", "content": "Hello Ada"},
        {"role": "user", "content": "what is my name?"},
    ]
    result = yjnb.Client(**oa_kwargs).chat("what is my name?", model=CHAT_MODEL, messages=messages)
    assert result.text


def test_files_need_the_gateway(client_kwargs: dict[str, Any], emulator: Any) -> None:
    gateway = yjnb.Client(**client_kwargs, protocol="gateway", platform="google")
    answer = gateway.chat("summarise", model=CHAT_MODEL, files=[b"%PDF-1.4 tiny"])
    assert "1 file" in answer.text
    openai = yjnb.Client(**client_kwargs, protocol="openai")
    with pytest.raises(
        ValidationError, match=r"files need a gateway profile; profile '.*' uses openai"
    ):
        openai.chat("summarise", model=CHAT_MODEL, files=[b"%PDF-1.4 tiny"])
    yuanjing = yjnb.Client(**client_kwargs)
    with pytest.raises(ValidationError, match="images need an openai or gateway profile"):
        yuanjing.chat("what is this?", images=[b"\x89PNG\r\n\x1a\n"])
    assert emulator.count("POST /llmage/v1/chat/completions") == 0


def test_responses_api(client_kwargs: dict[str, Any], emulator: Any, records: list[Any]) -> None:
    client = yjnb.Client(**client_kwargs, protocol="openai")
    photo = Path(__file__).parents[1] / "notebooks" / "assets" / "hat.png"
    result = client.chat("what colour?", model="gpt-4o", api="responses", images=[photo])
    assert result.text and result.id and result.id.startswith("resp_")
    assert result.usage is not None and result.usage.prompt_tokens > 0
    stream = client.chat("again", model="gpt-4o", api="responses", stream=True)
    text = "".join(chunk.text for chunk in stream)
    assert stream.result is not None and text == stream.result.text and text
    assert stream.result.usage is not None and stream.result.usage.completion_tokens > 0
    with pytest.raises(BadRequestError, match="OpenAI series"):
        client.chat("hi", model="gemini-2.5-pro", api="responses")
    gateway = yjnb.Client(**client_kwargs, protocol="gateway", platform="openai")
    with pytest.raises(ValidationError, match="api='responses' needs an openai profile"):
        gateway.chat("hi", model="gpt-4o", api="responses")
    assert emulator.count("POST /v1/responses") == 3
    assert records[0].params["api"] == "responses" and records[0].params["images"] == str(photo)


def test_models_lists(oa_kwargs: dict[str, Any]) -> None:
    ids = [m.id for m in yjnb.Client(**oa_kwargs).models()]
    assert CHAT_MODEL in ids and "veo-3.1" in ids


def test_gateway_platform_per_call_and_unknown(client_kwargs: dict[str, Any]) -> None:
    client = yjnb.Client(**client_kwargs, protocol="gateway", platform="google")
    assert "qwen3-max" in [m.id for m in client.models(platform="qwen")]
    assert "qwen3-max" not in [m.id for m in client.models()]
    with pytest.raises(BadRequestError, match="not available on platform"):
        client.chat("hi", model="qwen3-max")  # 404, mapped to BadRequestError
    assert client.chat("hi", model="qwen3-max", platform="qwen").text
    no_platform = yjnb.Client(**client_kwargs, protocol="gateway")
    with pytest.raises(ValidationError, match="needs a platform"):
        no_platform.chat("hi")


def test_errors_and_broken_streams(oa_kwargs: dict[str, Any], emulator: Any) -> None:
    with pytest.raises(AuthenticationError):
        yjnb.Client(**{**oa_kwargs, "api_key": "sk-wrong-key-0000000000"}).chat("hi")
    client = yjnb.Client(**oa_kwargs, headers={"X-Emulator-Fault": "drop_after=3"})
    stream = client.chat("a long answer please", model=CHAT_MODEL, stream=True)
    with pytest.raises(StreamInterrupted) as info:
        for _ in stream:
            pass
    assert info.value.partial_text and stream.result is not None and stream.result.interrupted


def test_profiles_and_profile_per_call(
    client_kwargs: dict[str, Any],
    isolated_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    emulator: Any,
) -> None:
    isolated_env.mkdir(parents=True, exist_ok=True)
    (isolated_env / "config.toml").write_text(
        f'[profiles.oa]\nbase_url = "{emulator.url}/v1"\nprotocol = "openai"\nkey_env = "OA_KEY"\n'
        f'\n[profiles.gw]\nbase_url = "{emulator.url}"\nprotocol = "gateway"\n'
        f'platform = "doubao"\nkey_env = "OA_KEY"\n'
    )
    monkeypatch.setenv("OA_KEY", emulator.api_key)
    client = yjnb.Client(profile="oa")
    assert client.chat("hi", model=CHAT_MODEL).text
    assert emulator.count("POST /v1/chat/completions") == 1  # ".../v1" is not doubled
    doubao = client.chat("hi", model="doubao-seed-1.6", profile="gw")
    assert doubao.text and emulator.count("POST /doubao/v1/chat/completions") == 1
    yuanjing = yjnb.Client(**client_kwargs)
    assert yuanjing.chat("hi", model=CHAT_MODEL, profile="oa").text
    assert emulator.count("POST /v1/chat/completions") == 2
    with pytest.raises(ConfigError, match="Unknown profile 'nope'"):
        client.chat("hi", profile="nope")


def test_demo_mode_serves_every_protocol(isolated_env: Path) -> None:
    async def main() -> tuple[str, str]:
        async with yjnb.AsyncClient(demo=True, protocol="gateway", platform="qwen") as gw:
            a = await gw.chat("hi", model="qwen3-max")
        async with yjnb.AsyncClient(demo=True, protocol="openai") as oa:
            b = await oa.chat("hi")  # the protocol's default model
        return a.text, b.model

    text, model = asyncio.run(main())
    assert text and model == "gemini-2.5-flash"


def test_the_key_never_appears(emulator: Any, records: list[Any], isolated_env: Path) -> None:
    key = "sk-SECRET-openai-side-0123456789"
    emulator.add_key(key, 1000.0)
    texts: list[str] = []
    for protocol, platform in PROTOCOLS:
        client = yjnb.Client(
            api_key=key, base_url=emulator.url, protocol=protocol, platform=platform
        )
        texts += [repr(client), repr(client.settings)]
        with pytest.raises(BadRequestError) as missing:
            client.chat("hi", model="no-such-model")
        texts += [str(missing.value), repr(missing.value)]
        task = client.image("a fox", model="nano-banana")
        texts += [repr(task)]
    texts += [repr(r) for r in records]
    texts += [p.read_bytes().decode("latin-1") for p in (isolated_env / "media").iterdir()]
    assert len(records) >= 4
    assert not [t for t in texts if key in t]


def test_out_of_quota_is_not_retried(oa_kwargs: dict[str, Any], emulator: Any) -> None:
    from yjnb._errors import InsufficientBalanceError

    emulator.set_balance(emulator.api_key, 0)
    with pytest.raises(InsufficientBalanceError):
        yjnb.Client(**oa_kwargs).chat("hi", model=CHAT_MODEL)
    assert emulator.count(f"POST {root(oa_kwargs)}/chat/completions") == 1
