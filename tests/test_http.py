"""Error mapping and the retry rules, each proven with the emulator's faults and counters."""

from __future__ import annotations

import socket
from typing import Any

import pytest

import yjnb
from yjnb._retry import RetryPolicy, parse_retry_after

# The retry rules hold on both transports.
pytestmark = pytest.mark.usefixtures("each_transport")

VIDEO = "POST /llmage/v1/video/generations"
TASKS = "GET /llmage/v1/tasks"
CHAT = "POST /llmage/v1/chat/completions"
FAST_RETRY = {"max_retries": 3}


def test_wrong_key_is_an_authentication_error_with_a_hint(emulator: Any) -> None:
    client = yjnb.Client(api_key="sk-wrong-key-123456", base_url=emulator.url)
    with pytest.raises(yjnb.AuthenticationError) as info:
        client.chat("hi")
    assert info.value.status_code == 401
    assert "Invalid API Key" in str(info.value)
    assert "YJ_API_KEY" in str(info.value)
    assert "sk-wrong-key-123456" not in str(info.value)
    assert emulator.count(CHAT) == 1


def test_bad_request_is_not_retried(client_kwargs: dict[str, Any], emulator: Any) -> None:
    client = yjnb.Client(**client_kwargs)
    with pytest.raises(yjnb.BadRequestError) as info:
        client.chat("hi", model="no-such-chat-model")
    assert info.value.status_code == 400
    assert emulator.count(CHAT) == 1


def test_insufficient_balance_is_never_retried(
    client_kwargs: dict[str, Any], emulator: Any, records: list[Any]
) -> None:
    emulator.set_balance(emulator.api_key, 0)
    client = yjnb.Client(**client_kwargs)
    with pytest.raises(yjnb.InsufficientBalanceError, match="Top up") as info:
        client.video("a cat", model="viduq3-pro", duration=1, wait=False)
    assert info.value.status_code == 429
    assert emulator.count(VIDEO) == 1
    assert records == []  # no task id exists, nothing recorded as spent


def test_gets_retry_through_5xx(client_kwargs: dict[str, Any], emulator: Any) -> None:
    client = yjnb.Client(**client_kwargs)
    task = client.video("a cat", model="viduq3-pro", duration=1, wait=False)
    emulator.set_faults(status=503, times=2, path="/llmage/v1/tasks")
    fetched = client.task(task.taskid)
    assert fetched.taskid == task.taskid and fetched.status
    assert emulator.count(TASKS) == 3


def test_gets_give_up_after_max_retries(client_kwargs: dict[str, Any], emulator: Any) -> None:
    emulator.set_faults(status=502, times=10, path="/llmage/v1/models")
    client = yjnb.Client(**client_kwargs, max_retries=2)
    with pytest.raises(yjnb.ServerError):
        client.models()
    assert emulator.count("GET /llmage/v1/models") == 3


def test_rate_limit_retry_after_is_honoured_on_gets(
    client_kwargs: dict[str, Any], emulator: Any
) -> None:
    emulator.set_faults(rate_limit=1, retry_after=0.2, times=1, path="/llmage/v1/models")
    assert yjnb.Client(**client_kwargs).models()
    assert emulator.count("GET /llmage/v1/models") == 2


def test_a_chat_rate_limited_every_time_gives_up_with_retry_after(
    client_kwargs: dict[str, Any], emulator: Any
) -> None:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    client = yjnb.Client(
        **client_kwargs, max_retries=2, headers={"X-Emulator-Fault": "rate_limit=1;retry_after=7"}
    )
    client.aio._retry = RetryPolicy(max_retries=2, sleep=record)
    with pytest.raises(yjnb.RateLimitError) as info:
        client.chat("hi")
    assert info.value.retry_after == 7
    assert emulator.count(CHAT) == 3 and len(waits) == 2 and min(waits) >= 7


def test_connection_refused_is_retried_then_reported() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: nothing listens there
    client = yjnb.Client(api_key="sk-x", base_url=f"http://127.0.0.1:{port}", max_retries=1)
    with pytest.raises(yjnb.APIConnectionError, match="could not reach"):
        client.chat("hi")


def test_retry_policy_backoff_is_jittered_and_capped() -> None:
    policy = RetryPolicy(backoff_base=0.5, backoff_cap=8.0, max_retries=8)
    delays = [policy.delay(n) for n in range(8)]
    assert all(d is not None and 0 < d <= 8.0 for d in delays)
    assert delays[0] is not None and delays[0] <= 0.5
    assert delays[-1] is not None and delays[-1] >= 6.0
    hinted = policy.delay(0, hint=3)
    assert hinted is not None and 3 <= hinted <= 3.3  # never earlier than asked
    assert policy.delay(0, hint=10_000) is None  # beyond max_wait: raised, not waited out
    assert policy.delay(8) is None  # the attempts are used up


def test_parse_retry_after() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None


def test_the_key_never_appears_anywhere(
    emulator: Any, records: list[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    import logging

    key = "sk-SECRET-never-shown-0123456789"
    emulator.add_key(key, 1000.0)
    client = yjnb.Client(
        api_key=key, base_url=emulator.url, headers={"X-Emulator-Fault": "drop_after=2"}
    )
    texts = [repr(client), str(client.settings), repr(client.settings)]
    with pytest.raises(yjnb.StreamInterrupted) as broken:
        list(client.chat("hi", stream=True))
    texts += [str(broken.value), repr(broken.value)]
    emulator.set_balance(key, 0)
    with pytest.raises(yjnb.InsufficientBalanceError) as poor:
        client.chat("hi")
    texts += [str(poor.value), repr(poor.value), poor.value.url]
    texts += [repr(r) for r in records] + [str(r.as_dict()) for r in records]
    logging.getLogger("yjnb").warning("client is %r", client)
    out = capsys.readouterr()
    texts += [out.out, out.err]
    assert records, "the calls were recorded"
    assert not [t for t in texts if key in t]


def test_balance_error_by_message_or_openai_code() -> None:
    from yjnb._http import is_balance_error

    assert is_balance_error(429, "Insufficient balance")
    assert is_balance_error(429, "You exceeded your current quota", "insufficient_quota")
    assert not is_balance_error(429, "Too many requests", "rate_limit_exceeded")
    assert not is_balance_error(400, "balance", "insufficient_quota")
