"""Chaos from a third party: the real `llmock` server (its pytest plugin's `llmock` fixture)
breaks chats on the `openai` protocol, and its verdict judges how yjnb coped.

After each scenario the verdict must have no FAIL, and none of the findings that say the
client gave up, ignored `Retry-After`, or retried without backing off. llmock measures the
gaps between attempts itself: the waits here are real, and kept short. A stream broken after
its answer began (dropped, truncated, corrupted) is started again once (`stream_retries`), and
the verdict must not find it accepted or ignored either.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import yjnb

pytest.importorskip("llmock")

MODEL = "gpt-4o-mini"
KEY = "sk-llmock-0123456789"  # long enough that redaction does not mangle the messages
REFUSED = {"gave_up", "retry_after_ignored", "no_backoff"}


def client(llmock: Any, **kw: Any) -> yjnb.Client:
    return yjnb.Client(protocol="openai", base_url=llmock.url, api_key=KEY, **kw)


def assert_resilient(llmock: Any, attempts: int) -> None:
    verdict = llmock.verdict()
    report = verdict.render()
    assert not verdict.errors, report
    assert not {f.code for f in verdict.findings} & REFUSED, report
    assert verdict.attempts == attempts, report
    llmock.assert_resilient()


def test_a_429_is_retried_after_its_retry_after(llmock: Any) -> None:
    llmock.rate_limit(times=1, retry_after=0.3)
    with client(llmock) as yj:
        assert yj.chat("hello", model=MODEL).text
    assert_resilient(llmock, attempts=2)


def test_two_503s_are_retried_with_backoff(llmock: Any) -> None:
    llmock.fail(503, times=2)
    with client(llmock) as yj:
        assert yj.chat("hello", model=MODEL).text
    assert_resilient(llmock, attempts=3)


def test_a_stream_dropped_before_its_first_byte_is_sent_again(llmock: Any) -> None:
    llmock.disconnect(after_chunks=0)
    with client(llmock) as yj:
        chunks = list(yj.chat("hello", model=MODEL, stream=True))
    assert "".join(c.text for c in chunks)
    assert_resilient(llmock, attempts=2)


def test_an_rpm_quota_is_waited_out(llmock: Any) -> None:
    # A bucket of 100 requests that refills one every 0.6 s; 103 chats at once overflow it.
    llmock.limits(rpm=100)

    async def fan_out() -> list[str]:
        async with yjnb.AsyncClient(protocol="openai", base_url=llmock.url, api_key=KEY) as yj:
            calls = [yj.chat(f"hi {n}", model=MODEL, max_tokens=5) for n in range(103)]
            return [result.text for result in await asyncio.gather(*calls)]

    assert all(asyncio.run(fan_out()))
    refused = [r for r in llmock.requests if r.status == 429]
    assert refused, "the quota was never reached"
    assert all(r.retry_after for r in refused)
    assert_resilient(llmock, attempts=103 + len(refused))


# -- broken streams: started again once -----------------------------------------------------------


def restart_marks(chunks: list[yjnb.ChatChunk]) -> list[str]:
    return [c.restart for c in chunks if c.restart]


@pytest.mark.parametrize(
    ("break_it", "why"),
    [
        (lambda m: m.disconnect(after_chunks=2), "connection dropped"),
        (lambda m: m.truncate(after_chunks=2), "cut without a finish signal"),
        (lambda m: m.corrupt(after_chunks=2), "malformed chunk"),
    ],
    ids=["dropped", "truncated", "malformed"],
)
def test_a_stream_broken_mid_answer_is_started_again(
    llmock: Any, records: list[Any], break_it: Any, why: str
) -> None:
    # Paced, so that the client has hung up before the server could finish a corrupted
    # stream: llmock then sees the attempt fail, and the restart as its retry.
    llmock.pace(20)
    break_it(llmock)
    with client(llmock) as yj:
        stream = yj.chat("hello", model=MODEL, stream=True)
        chunks = list(stream)
    assert restart_marks(chunks) == [why]
    after = chunks[[c.restart for c in chunks].index(why) + 1 :]
    assert stream.result is not None and not stream.result.interrupted
    assert "".join(c.text for c in after) == stream.result.text != ""
    (broken,) = stream.broken_attempts
    assert broken.interrupted and broken.text
    assert [r.status for r in records if r.kind == "chat"] == ["interrupted", "ok"]
    assert_resilient(llmock, attempts=2)
    findings = {f.code for f in llmock.verdict().findings}
    assert not findings & {"truncated_stream_accepted", "malformed_chunk_ignored"}
