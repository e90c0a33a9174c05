"""The retry table (yjnb._retry) on the Yuanjing protocol, proven with the emulator's faults,
quotas and counters. Waits go through `RetryPolicy.sleep`, recorded instead of spent: tests
assert on the waits a client asked for, never on wall time."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import yjnb
from tests.emulator.helpers import ManualClock
from yjnb.emulator import serve

# The retry rules hold on both transports.
pytestmark = pytest.mark.usefixtures("each_transport")

CHAT_PATH = "/llmage/v1/chat/completions"
CHAT = "POST " + CHAT_PATH
VIDEO_PATH = "/llmage/v1/video/generations"
VIDEO = "POST " + VIDEO_PATH


class Waits:
    """A `RetryPolicy.sleep` that records each wait; `then` is told it instead of sleeping."""

    def __init__(self, then: Callable[[float], None] | None = None) -> None:
        self.seen: list[float] = []
        self.then = then

    async def __call__(self, seconds: float) -> None:
        self.seen.append(seconds)
        if self.then is not None:
            self.then(seconds)


def recording(client: yjnb.Client, waits: Waits) -> yjnb.Client:
    client.aio._retry = dataclasses.replace(client.aio._retry, sleep=waits)
    return client


@pytest.fixture
def waits() -> Waits:
    return Waits()


def test_a_rate_limited_chat_is_sent_again_after_its_retry_after(
    client_kwargs: dict[str, Any], emulator: Any, waits: Waits
) -> None:
    emulator.set_faults(rate_limit=1, retry_after=2, times=1, path=CHAT_PATH)
    client = recording(yjnb.Client(**client_kwargs), waits)
    assert client.chat("hi").text
    assert emulator.count(CHAT) == 2
    assert len(waits.seen) == 1 and 2.0 <= waits.seen[0] <= 2.2  # the hint, plus some jitter


@pytest.fixture
def clocked() -> Iterator[tuple[Any, ManualClock]]:
    clock = ManualClock()
    with serve(speed=1.0, clock=clock) as emu:
        yield emu, clock


def test_a_chat_quota_is_waited_out_exactly_as_long_as_the_platform_says(
    clocked: tuple[Any, ManualClock],
) -> None:
    emu, clock = clocked
    emu.set_limits(rpm=1)
    waits = Waits(then=clock.advance)  # a wait moves the quota clock: no real time passes
    client = recording(yjnb.Client(api_key=emu.api_key, base_url=emu.url), waits)
    assert client.chat("first").text  # opens the minute's window with its only request
    clock.advance(15)
    assert client.chat("second").text  # refused with Retry-After: 45, then let through
    assert emu.count(CHAT) == 3
    assert len(waits.seen) == 1 and waits.seen[0] >= 45


def test_a_wait_longer_than_max_wait_is_not_waited_out(
    client_kwargs: dict[str, Any], emulator: Any, waits: Waits
) -> None:
    emulator.set_faults(rate_limit=1, retry_after=120, times=1, path=CHAT_PATH)
    client = recording(yjnb.Client(**client_kwargs), waits)
    with pytest.raises(yjnb.RateLimitError) as info:
        client.chat("hi")
    assert info.value.retry_after == 120
    assert emulator.count(CHAT) == 1 and waits.seen == []


def test_a_chat_is_sent_again_through_two_503s_with_growing_waits(
    client_kwargs: dict[str, Any], emulator: Any, waits: Waits
) -> None:
    emulator.set_faults(status=503, times=2, path=CHAT_PATH)
    client = recording(yjnb.Client(**client_kwargs), waits)
    assert client.chat("hi").text
    assert emulator.count(CHAT) == 3
    first, second = waits.seen
    assert 0 < first < second  # exponential backoff, jittered within each step


def test_a_chat_stream_dropped_before_its_first_byte_is_sent_again(
    client_kwargs: dict[str, Any], emulator: Any, waits: Waits
) -> None:
    emulator.set_faults(drop_after=0, times=1, path=CHAT_PATH)
    client = recording(yjnb.Client(**client_kwargs), waits)
    text = "".join(chunk.text for chunk in client.chat("hi", stream=True))
    assert text
    assert emulator.count(CHAT) == 2 and len(waits.seen) == 1


def test_insufficient_balance_is_never_retried_on_a_chat(
    client_kwargs: dict[str, Any], emulator: Any, waits: Waits
) -> None:
    emulator.set_balance(emulator.api_key, 0)
    client = recording(yjnb.Client(**client_kwargs), waits)
    with pytest.raises(yjnb.InsufficientBalanceError):
        client.chat("hi")
    assert emulator.count(CHAT) == 1 and waits.seen == []


def test_a_rate_limited_video_submission_is_sent_again(
    client_kwargs: dict[str, Any], emulator: Any, waits: Waits
) -> None:
    # A 429 means the platform refused the task: sending it again cannot buy it twice.
    emulator.set_faults(rate_limit=1, retry_after=3, times=1, path=VIDEO_PATH)
    client = recording(yjnb.Client(**client_kwargs), waits)
    task = client.video("a cat", model="viduq3-pro", duration=1, wait=False)
    assert task.taskid
    assert emulator.count(VIDEO) == 2
    assert len(waits.seen) == 1 and waits.seen[0] >= 3


def test_a_video_submission_answered_503_is_not_sent_again(
    client_kwargs: dict[str, Any], emulator: Any, waits: Waits
) -> None:
    emulator.set_faults(status=503, times=1, path=VIDEO_PATH)
    client = recording(yjnb.Client(**client_kwargs), waits)
    with pytest.raises(yjnb.ServerError, match="the task may have been created") as info:
        client.video("a cat", model="viduq3-pro", duration=1, wait=False)
    assert info.value.status_code == 503
    assert emulator.count(VIDEO) == 1 and waits.seen == []


def test_a_video_submission_that_could_not_connect_is_retried(waits: Waits) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: nothing listens there
    client = recording(yjnb.Client(api_key="sk-x", base_url=f"http://127.0.0.1:{port}"), waits)
    with pytest.raises(yjnb.APIConnectionError) as info:
        client.video("a cat", model="viduq3-pro", duration=1, wait=False)
    assert len(waits.seen) == 3  # max_retries: the request never left, so it cannot be paid
    assert "may have been created" not in str(info.value)
