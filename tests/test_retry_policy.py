"""The retry table and the server's wait hints, as pure functions (no server, no time)."""

from __future__ import annotations

import itertools

import pytest

import yjnb
from yjnb._retry import (
    RETRIED_ON,
    Failure,
    RetryKind,
    RetryPolicy,
    parse_duration,
    status_failure,
    wait_hint,
)
from yjnb.protocols.base import WireRequest


@pytest.mark.parametrize(
    ("kind", "retried"),
    [
        (RetryKind.READ, "CONNECT DROPPED TIMEOUT BROKEN REQUEST_TIMEOUT RATE_LIMITED SERVER"),
        (RetryKind.CHAT, "CONNECT DROPPED REQUEST_TIMEOUT CONFLICT RATE_LIMITED SERVER"),
        (RetryKind.MEDIA, "CONNECT RATE_LIMITED"),
    ],
)
def test_the_retry_table(kind: RetryKind, retried: str) -> None:
    assert RETRIED_ON[kind] == {Failure[name] for name in retried.split()}


@pytest.mark.parametrize(
    ("status", "failure"),
    [
        (408, Failure.REQUEST_TIMEOUT),
        (409, Failure.CONFLICT),
        (429, Failure.RATE_LIMITED),
        (500, Failure.SERVER),
        (503, Failure.SERVER),
        (529, Failure.SERVER),
        (501, None),
        (400, None),
        (401, None),
        (403, None),
        (404, None),
        (422, None),
    ],
)
def test_statuses_in_the_tables_words(status: int, failure: Failure | None) -> None:
    assert status_failure(status) is failure


def test_a_429_that_means_no_credit_is_never_retried() -> None:
    assert status_failure(429, out_of_credit=True) is None


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1s", 1.0),
        ("6m0s", 360.0),
        ("250ms", 0.25),
        ("1h2m3.5s", 3723.5),
        ("2.5", 2.5),
        ("17ms", 0.017),
        ("", None),
        ("soon", None),
        ("5x", None),
        ("1s garbage", None),
    ],
)
def test_parse_duration(text: str, seconds: float | None) -> None:
    assert parse_duration(text) == (pytest.approx(seconds) if seconds is not None else None)


def test_the_longest_of_retry_after_and_retry_after_ms_wins() -> None:
    assert wait_hint({"retry-after": "2", "retry-after-ms": "3500"}, 429) == 3.5
    assert wait_hint({"retry-after": "4", "retry-after-ms": "3500"}, 503) == 4.0


def test_retry_after_as_an_http_date_is_read_on_the_injected_clock() -> None:
    date = "Wed, 21 Oct 2015 07:28:00 GMT"  # 1445412480
    assert wait_hint({"retry-after": date}, 429, now=lambda: 1445412480 - 30) == 30.0


def test_quota_resets_count_only_for_a_429_that_gave_no_retry_after() -> None:
    quota = {
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "1.5s",
        "x-ratelimit-remaining-tokens": "9000",
        "x-ratelimit-reset-tokens": "6m0s",
    }
    assert wait_hint(quota, 429) == 1.5  # the requests quota ran out, not the tokens
    assert wait_hint({**quota, "retry-after": "1"}, 429) == 1.0  # the server said when
    assert wait_hint(quota, 503) is None
    unknown = {"x-ratelimit-reset-requests": "800ms", "x-ratelimit-reset-tokens": "2s"}
    assert wait_hint(unknown, 429) == 2.0  # which quota ran out is not said: the longer


def test_backoff_grows_at_every_step_until_the_cap() -> None:
    policy = RetryPolicy(backoff_base=0.5, backoff_cap=8.0, max_retries=6)
    for _ in range(50):  # jitter: whatever it draws, each wait is longer than the last
        waits = [policy.backoff(n) for n in range(5)]
        assert all(later > earlier * 1.1 for earlier, later in itertools.pairwise(waits))


@pytest.mark.parametrize("protocol", ["yuanjing", "openai", "gateway"])
def test_requests_say_what_a_retry_could_cost(protocol: str) -> None:
    client = yjnb.Client(api_key="sk-x", base_url="http://h", protocol=protocol)
    platform = "openai" if protocol == "gateway" else None
    built = client.protocol
    chat = client.prepare_chat("hi", platform=platform)
    assert built.chat_request(chat, [], []).retry_kind is RetryKind.CHAT
    for kind in ("image", "video"):
        task = client.prepare_task(kind, "a cat", platform=platform)  # type: ignore[arg-type]
        assert built.task_request(task).retry_kind is RetryKind.MEDIA
    assert built.models_request(None, platform).retry_kind is RetryKind.READ
    assert WireRequest("POST", "/x").retry_kind is RetryKind.MEDIA  # unmarked: retried least


def test_a_broken_stream_is_restarted_stream_retries_times_with_backoff() -> None:
    once = RetryPolicy()
    assert once.stream_retries == 1
    first = once.restart_delay(0)
    assert first is not None and 0.75 * once.backoff_base <= first <= once.backoff_base
    assert once.restart_delay(1) is None
    assert RetryPolicy(stream_retries=0).restart_delay(0) is None
    twice = RetryPolicy(stream_retries=2)
    delays = [twice.restart_delay(0), twice.restart_delay(1), twice.restart_delay(2)]
    assert delays[0] is not None and delays[1] is not None and delays[0] < delays[1]
    assert delays[2] is None


def test_a_whole_second_retry_after_is_refined_by_the_reset_it_rounds_up() -> None:
    spent = {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "8.312s"}
    assert wait_hint({**spent, "retry-after": "9"}, 429) == pytest.approx(8.312)
    assert wait_hint({**spent, "retry-after": "10"}, 429) == 10.0  # a second more: it is asked
    assert wait_hint({**spent, "retry-after": "8"}, 429) == 8.0  # the longer one is not taken
    assert wait_hint({**spent, "retry-after": "9", "retry-after-ms": "8900"}, 429) == 9.0
    assert wait_hint({**spent, "retry-after": "9"}, 503) == 9.0  # a quota's is a 429's only


def test_the_jitter_on_a_hint_is_at_most_a_tenth_and_a_quarter_second() -> None:
    policy = RetryPolicy()
    for _ in range(200):
        assert 9.0 <= policy.delay(0, 9.0) <= 9.25  # type: ignore[operator]
        assert 1.0 <= policy.delay(0, 1.0) <= 1.1  # type: ignore[operator]
