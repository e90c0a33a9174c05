"""Tokens-per-minute quotas over real HTTP: a chat spends the tokens its usage reports.

Each test first asks once without a quota to learn what the chat costs (the replies are
deterministic), then sets ``tpm`` around that cost.
"""

from __future__ import annotations

import math
from typing import Any

import httpx

from yjnb.emulator import DEMO_KEY, Emulator
from yjnb.emulator.quotas import WINDOW_SECONDS

from .helpers import CHAT, ManualClock, openai_chunks, openai_error

AUTH = {"Authorization": f"Bearer {DEMO_KEY}"}
YJ_BODY = {"model": "qwen3-max", "prompt": "Tell me about tokens"}
OAI_PATH = "/v1/chat/completions"
OAI_BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Tell me about tokens"}]}


def post(emu: Emulator, path: str, body: dict[str, Any], key: str = DEMO_KEY) -> httpx.Response:
    return httpx.post(emu.url + path, json=body, headers={"Authorization": f"Bearer {key}"})


def cost(emu: Emulator, path: str, body: dict[str, Any]) -> int:
    """What one such chat spends: its reported total tokens (asked with no quota set)."""
    assert emu.limits.tpm is None
    r = post(emu, path, body)
    assert r.status_code == 200, r.text
    return int(r.json()["usage"]["total_tokens"])


def test_tokens_beyond_the_budget_wait_for_the_window(
    clocked: tuple[Emulator, ManualClock],
) -> None:
    emu, clock = clocked
    tokens = cost(emu, CHAT, YJ_BODY)
    emu.set_limits(tpm=2 * tokens + tokens // 2)
    first = post(emu, CHAT, YJ_BODY)
    assert first.headers["x-ratelimit-limit-tokens"] == str(2 * tokens + tokens // 2)
    assert first.headers["x-ratelimit-remaining-tokens"] == str(tokens + tokens // 2)
    clock.advance(25)
    assert post(emu, CHAT, YJ_BODY).status_code == 200
    r = post(emu, CHAT, YJ_BODY)  # tokens // 2 left, a whole chat needed
    assert r.status_code == 429
    assert r.headers["Retry-After"] == str(math.ceil(WINDOW_SECONDS - 25))
    assert r.headers["x-ratelimit-remaining-tokens"] == str(tokens // 2)  # refused: spent nothing
    assert r.headers["x-ratelimit-reset-tokens"] == "35s"
    message = r.json()["error"]
    assert message.startswith("Rate limit reached for tokens per min (TPM)")
    assert f"Used {2 * tokens}, Requested {tokens}" in message
    clock.advance(WINDOW_SECONDS - 25)
    again = post(emu, CHAT, YJ_BODY)
    assert again.status_code == 200
    assert again.headers["x-ratelimit-remaining-tokens"] == str(tokens + tokens // 2)


def test_a_stream_spends_its_tokens_when_it_starts(
    clocked: tuple[Emulator, ManualClock],
) -> None:
    emu, _ = clocked
    tokens = cost(emu, CHAT, YJ_BODY)
    emu.set_limits(tpm=tokens)
    r = post(emu, CHAT, {**YJ_BODY, "stream": True})
    assert r.status_code == 200 and r.text.endswith("data: [DONE]\n\n")
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["x-ratelimit-remaining-tokens"] == "0"
    refused = post(emu, CHAT, {**YJ_BODY, "stream": True})
    assert refused.status_code == 429 and "tokens per min" in refused.json()["error"]


def test_openai_chat_spends_its_usage_and_answers_in_openai_shape(
    clocked: tuple[Emulator, ManualClock],
) -> None:
    emu, clock = clocked
    tokens = cost(emu, OAI_PATH, OAI_BODY)
    emu.set_limits(tpm=tokens)
    streamed = post(emu, OAI_PATH, {**OAI_BODY, "stream": True})
    assert openai_chunks(streamed.text)[-1]["choices"][0]["finish_reason"] == "stop"
    assert streamed.headers["x-ratelimit-remaining-tokens"] == "0"
    clock.advance(59)
    r = post(emu, OAI_PATH, OAI_BODY)
    assert "tokens per min (TPM)" in openai_error(r, 429, "rate_limit_exceeded")
    assert r.headers["Retry-After"] == "1"


def test_responses_api_spends_tokens(clocked: tuple[Emulator, ManualClock]) -> None:
    emu, _ = clocked
    body = {"model": "gpt-4o", "input": "Tell me about tokens"}
    r = post(emu, "/v1/responses", body)
    tokens = r.json()["usage"]["total_tokens"]
    emu.set_limits(tpm=tokens)
    assert post(emu, "/v1/responses", body).status_code == 200
    openai_error(post(emu, "/v1/responses", body), 429, "rate_limit_exceeded")


def test_a_chat_larger_than_the_quota_is_refused_without_a_wait(
    clocked: tuple[Emulator, ManualClock],
) -> None:
    emu, _ = clocked
    tokens = cost(emu, CHAT, YJ_BODY)
    emu.set_limits(tpm=tokens - 1)
    r = post(emu, CHAT, YJ_BODY)
    assert r.status_code == 429
    assert "Retry-After" not in r.headers  # no window would ever admit it
    assert r.json()["error"].startswith(
        f"Request too large for tokens per min (TPM): Limit {tokens - 1}"
    )
    small = post(emu, CHAT, {**YJ_BODY, "max_tokens": 1})
    assert small.status_code == 200  # the budget is untouched


def test_token_windows_are_per_key(clocked: tuple[Emulator, ManualClock]) -> None:
    emu, _ = clocked
    emu.add_key("yj-other")
    tokens = cost(emu, CHAT, YJ_BODY)
    emu.set_limits(tpm=tokens)
    assert post(emu, CHAT, YJ_BODY).status_code == 200
    assert post(emu, CHAT, YJ_BODY).status_code == 429
    other = post(emu, CHAT, YJ_BODY, key="yj-other")
    assert other.status_code == 200
    assert other.headers["x-ratelimit-remaining-tokens"] == "0"


def test_tpm_alone_limits_no_requests(clocked: tuple[Emulator, ManualClock]) -> None:
    emu, _ = clocked
    emu.set_limits(tpm=10)
    for _ in range(5):
        r = httpx.get(emu.url + "/llmage/v1/models", headers=AUTH)
        assert r.status_code == 200
        assert r.headers["x-ratelimit-remaining-tokens"] == "10"
        assert "x-ratelimit-limit-requests" not in r.headers


def test_rpm_and_tpm_together(clocked: tuple[Emulator, ManualClock]) -> None:
    emu, _ = clocked
    tokens = cost(emu, CHAT, YJ_BODY)
    emu.set_limits(rpm=5, tpm=10 * tokens)
    r = post(emu, CHAT, YJ_BODY)
    assert r.headers["x-ratelimit-remaining-requests"] == "4"
    assert r.headers["x-ratelimit-remaining-tokens"] == str(9 * tokens)
    assert r.headers["x-ratelimit-reset-requests"] == r.headers["x-ratelimit-reset-tokens"]
