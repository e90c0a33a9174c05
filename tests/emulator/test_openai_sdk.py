"""The official ``openai`` SDK talks to the emulator's chat endpoint unchanged."""

from __future__ import annotations

import openai
import pytest

from yjnb.emulator import DEMO_KEY, Emulator


@pytest.fixture
def sdk(emu: Emulator) -> openai.OpenAI:
    return openai.OpenAI(base_url=emu.url + "/llmage/v1", api_key=DEMO_KEY, max_retries=0)


def test_completion(sdk: openai.OpenAI) -> None:
    r = sdk.chat.completions.create(
        model="qwen3-max",
        messages=[
            {"role": "system", "content": "Be short."},
            {"role": "user", "content": "echo: 你好, SDK"},
        ],
    )
    assert r.choices[0].message.content == "你好, SDK"
    assert r.choices[0].finish_reason == "stop"
    assert r.usage is not None and r.usage.completion_tokens == 4  # 你 好 , SDK
    assert r.usage.prompt_tokens == 6 + 3


def test_streaming(sdk: openai.OpenAI) -> None:
    stream = sdk.chat.completions.create(
        model="qwen-plus",
        messages=[{"role": "user", "content": "echo: one two three"}],
        stream=True,
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "one two three"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 3
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"


def test_errors_map_to_sdk_exceptions(emu: Emulator) -> None:
    bad = openai.OpenAI(base_url=emu.url + "/llmage/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.chat.completions.create(model="qwen3-max", messages=[{"role": "user", "content": "x"}])
    emu.set_balance(DEMO_KEY, 0)
    sdk = openai.OpenAI(base_url=emu.url + "/llmage/v1", api_key=DEMO_KEY, max_retries=0)
    with pytest.raises(openai.RateLimitError):
        sdk.chat.completions.create(model="qwen3-max", messages=[{"role": "user", "content": "x"}])
