"""The official ``openai`` SDK talks to the emulator unchanged: ``/llmage/v1`` chat and the
OpenAI-compatible ``/v1`` side (chat, responses, models, images, videos)."""

from __future__ import annotations

import base64

import httpx
import openai
import pytest

from yjnb.emulator import DEMO_KEY, Emulator
from yjnb.emulator.media import png_for


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


# ---- the OpenAI-compatible service (/v1) -----------------------------------------------


@pytest.fixture
def v1(emu: Emulator) -> openai.OpenAI:
    return openai.OpenAI(base_url=emu.url + "/v1", api_key=DEMO_KEY, max_retries=0)


def test_v1_chat(v1: openai.OpenAI) -> None:
    r = v1.chat.completions.create(
        model="gemini-2.5-pro",
        messages=[{"role": "user", "content": "echo: 你好，请介绍一下你自己"}],
        temperature=0.7,
        max_tokens=1000,
    )
    assert r.id.startswith("foaicmpl-") and r.model == "gemini-2.5-pro"
    assert r.choices[0].message.content == "你好，请介绍一下你自己"
    assert r.usage is not None and r.usage.completion_tokens == 11


def test_v1_chat_stream_with_usage_and_image(v1: openai.OpenAI) -> None:
    png = base64.b64encode(png_for("sdk")).decode()
    stream = v1.chat.completions.create(
        model="gpt-4o",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "echo: done"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}},
                ],
            }
        ],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "I see 1 image. done"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 6


def test_v1_models_and_errors(v1: openai.OpenAI, emu: Emulator) -> None:
    ids = [m.id for m in v1.models.list()]
    assert "gemini-2.5-flash" in ids and "sora-2" in ids
    with pytest.raises(openai.NotFoundError) as info:
        v1.chat.completions.create(model="nope", messages=[{"role": "user", "content": "x"}])
    assert info.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError):
        v1.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "x"}], temperature=1.5
        )
    bad = openai.OpenAI(base_url=emu.url + "/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()
    with pytest.raises(openai.InternalServerError):
        v1.models.list(extra_headers={"X-Emulator-Fault": "status=503"})


def test_v1_responses(v1: openai.OpenAI) -> None:
    r = v1.responses.create(model="gpt-4o", input="echo: sdk responses")
    assert r.output_text == "sdk responses"
    events = list(v1.responses.create(model="gpt-4o", input="echo: a b", stream=True))
    assert [e.type for e in events][-1] == "response.completed"


def test_v1_images(v1: openai.OpenAI) -> None:
    r = v1.images.generate(model="nano-banana-pro", prompt="A cute baby sea otter", size="1:1")
    assert r.data is not None and r.data[0].b64_json is not None
    assert base64.b64decode(r.data[0].b64_json)[:4] == b"\x89PNG"
    assert r.usage is not None and r.usage.output_tokens == 1290
    edit = v1.images.edit(
        model="nano-banana-pro",
        prompt="Put the cloth on the girl",
        image=[
            ("girl.png", png_for("girl"), "image/png"),
            ("cloth.png", png_for("c"), "image/png"),
        ],
        mask=("mask.png", png_for("mask"), "image/png"),
        size="16:9",
        response_format="url",
    )
    assert edit.data is not None and edit.data[0].url is not None
    assert edit.usage is not None and edit.usage.input_tokens_details.image_tokens == 3 * 258
    assert httpx.get(edit.data[0].url).content[:4] == b"\x89PNG"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks the Sora API so
def test_v1_videos(v1: openai.OpenAI, emu: Emulator) -> None:
    emu.set_speed(1e-6)
    job = v1.videos.create(
        model="sora-2",
        prompt="a cat running",
        seconds="8",
        size="1280x720",
        input_reference=("ref.png", png_for("ref"), "image/png"),
    )
    assert job.id.startswith("video_") and job.status == "pending" and job.progress == 0
    emu.advance(12.0)
    running = v1.videos.retrieve(job.id)
    assert running.status == "processing" and running.progress == 50
    with pytest.raises(openai.BadRequestError):
        v1.videos.download_content(job.id)
    emu.advance(1e6)
    done = v1.videos.retrieve(job.id)
    assert done.status == "completed" and done.seconds == "8" and done.size == "1280x720"
    content = v1.videos.download_content(job.id)
    assert content.content[4:8] == b"ftyp"
    remix = v1.videos.remix(job.id, prompt="now at night")
    assert remix.remixed_from_video_id == job.id and remix.model == "sora-2"
    with pytest.raises(openai.NotFoundError):
        v1.videos.retrieve("video_nope")
