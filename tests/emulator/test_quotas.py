"""Per-key requests-per-minute quotas over real HTTP: 429s, waits, headers, error shapes.

Waits are checked exactly on an emulator whose quota clock is a :class:`ManualClock`: the
test moves time, the emulator reports the wait that is left, nothing sleeps.
"""

from __future__ import annotations

import math
import threading
import time

import httpx
import pytest

from yjnb.emulator import DEMO_KEY, Emulator
from yjnb.emulator.quotas import WINDOW_SECONDS, PlatformClock, duration

from .helpers import CHAT, ManualClock, openai_error

AUTH = {"Authorization": f"Bearer {DEMO_KEY}"}
MODELS = "/llmage/v1/models"
RATE_HEADERS = ("limit", "remaining", "reset")


def get(emu: Emulator, path: str = MODELS, key: str = DEMO_KEY) -> httpx.Response:
    return httpx.get(emu.url + path, headers={"Authorization": f"Bearer {key}"})


def real_wait(elapsed_platform: float, speed: float) -> int:
    """Retry-After for a window opened ``elapsed_platform`` seconds ago: real seconds, up."""
    return math.ceil((WINDOW_SECONDS - elapsed_platform) / speed)


def test_rpm_exceeded_answers_429_with_the_real_wait(
    clocked: tuple[Emulator, ManualClock],
) -> None:
    emu, clock = clocked
    emu.set_limits(rpm=2)
    assert get(emu).status_code == 200  # opens the window
    clock.advance(15)
    assert get(emu).status_code == 200
    clock.advance(5)
    r = get(emu)
    assert r.status_code == 429
    assert r.headers["Retry-After"] == str(real_wait(20, 1.0))
    assert r.headers["x-ratelimit-limit-requests"] == "2"
    assert r.headers["x-ratelimit-remaining-requests"] == "0"
    assert r.headers["x-ratelimit-reset-requests"] == f"{real_wait(20, 1.0)}s"
    assert "x-ratelimit-limit-tokens" not in r.headers  # no tpm set
    message = r.json()["error"]
    assert list(r.json()) == ["error"] and message != "Insufficient balance"
    assert "requests per min (RPM): Limit 2" in message


def test_the_window_admits_again_exactly_when_retry_after_says(
    clocked: tuple[Emulator, ManualClock],
) -> None:
    emu, clock = clocked
    emu.set_limits(rpm=1)
    get(emu)
    clock.advance(30)
    wait = int(get(emu).headers["Retry-After"])
    clock.advance(wait - 1)
    late = get(emu)
    assert late.status_code == 429 and late.headers["Retry-After"] == "1"
    clock.advance(1)
    r = get(emu)
    assert r.status_code == 200
    assert r.headers["x-ratelimit-remaining-requests"] == "0"  # the new window's one request
    assert r.headers["x-ratelimit-reset-requests"] == "1m0s"


def test_the_window_scales_with_speed(clocked: tuple[Emulator, ManualClock]) -> None:
    emu, clock = clocked
    emu.set_speed(50.0)
    emu.set_limits(rpm=1)
    get(emu)
    clock.advance(0.4)  # 20 platform seconds
    r = get(emu)
    assert r.status_code == 429
    assert r.headers["Retry-After"] == str(real_wait(20, 50.0))  # 0.8 s, rounded up
    assert r.headers["x-ratelimit-reset-requests"] == "800ms"
    clock.advance(0.8)
    assert get(emu).status_code == 200


def test_advance_moves_the_quota_window_on_a_real_clock(emu: Emulator) -> None:
    emu.set_speed(1.0)  # a real minute: the second request always falls in the first window
    emu.set_limits(rpm=1)
    assert get(emu).status_code == 200
    assert get(emu).status_code == 429
    emu.advance(WINDOW_SECONDS)
    assert get(emu).status_code == 200


def test_successful_answers_carry_the_headers(clocked: tuple[Emulator, ManualClock]) -> None:
    emu, clock = clocked
    emu.set_limits(rpm=3)
    first = get(emu)
    assert {h: first.headers[f"x-ratelimit-{h}-requests"] for h in RATE_HEADERS} == {
        "limit": "3",
        "remaining": "2",
        "reset": "1m0s",
    }
    assert "Retry-After" not in first.headers
    clock.advance(12.5)
    task = get(emu, "/llmage/v1/tasks?taskid=1")  # every request counts, not only chats
    assert task.headers["x-ratelimit-remaining-requests"] == "1"
    assert task.headers["x-ratelimit-reset-requests"] == "47.5s"


def test_refused_requests_count_like_on_openai(clocked: tuple[Emulator, ManualClock]) -> None:
    emu, clock = clocked
    emu.set_limits(rpm=1)
    get(emu)
    for _ in range(3):
        assert get(emu).status_code == 429
    assert "Used 4" in get(emu).json()["error"]  # the first request and three refused
    clock.advance(WINDOW_SECONDS)
    assert get(emu).status_code == 200  # ... and the next window starts from zero


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/openai/v1/chat/completions"])
def test_openai_side_quota_errors_have_the_openai_shape(
    clocked: tuple[Emulator, ManualClock], path: str
) -> None:
    emu, clock = clocked
    emu.set_limits(rpm=1)
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    assert httpx.post(emu.url + path, json=body, headers=AUTH).status_code == 200
    clock.advance(10)
    r = httpx.post(emu.url + path, json=body, headers=AUTH)
    message = openai_error(r, 429, "rate_limit_exceeded")
    assert r.json()["error"]["type"] == "rate_limit_error"
    assert "requests per min (RPM)" in message
    assert r.headers["Retry-After"] == str(real_wait(10, 1.0))
    assert r.headers["x-ratelimit-reset-requests"] == "50s"


def test_quota_429_differs_from_insufficient_balance(clocked: tuple[Emulator, ManualClock]) -> None:
    emu, _ = clocked
    emu.set_limits(rpm=1)
    emu.set_balance(DEMO_KEY, 0)
    body = {"model": "qwen3-max", "prompt": "hi"}
    broke = httpx.post(emu.url + CHAT, json=body, headers=AUTH)
    assert broke.status_code == 429 and broke.json() == {"error": "Insufficient balance"}
    assert "Retry-After" not in broke.headers
    limited = httpx.post(emu.url + CHAT, json=body, headers=AUTH)
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    assert limited.json()["error"].startswith("Rate limit reached for requests")
    oai = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    emu.reset()
    emu.set_balance(DEMO_KEY, 0)
    r = httpx.post(emu.url + "/v1/chat/completions", json=oai, headers=AUTH)
    openai_error(r, 429, "insufficient_quota")  # not rate_limit_exceeded


def test_every_key_has_its_own_window(clocked: tuple[Emulator, ManualClock]) -> None:
    emu, clock = clocked
    emu.add_key("yj-other")
    emu.set_limits(rpm=1)
    assert get(emu).status_code == 200
    clock.advance(40)
    assert get(emu).status_code == 429
    other = get(emu, key="yj-other")  # its window opens now, 40 s after the demo key's
    assert other.status_code == 200
    assert other.headers["x-ratelimit-reset-requests"] == "1m0s"
    clock.advance(20)
    assert get(emu).status_code == 200  # the demo key's window has closed
    late = get(emu, key="yj-other")
    assert late.status_code == 429 and late.headers["Retry-After"] == str(real_wait(20, 1.0))


def test_defaults_set_no_quota_and_no_headers(emu: Emulator) -> None:
    assert emu.limits.rpm is None and emu.limits.tpm is None
    stats = httpx.get(emu.url + "/_emulator/stats").json()
    assert stats["limits"] == {"rpm": None, "tpm": None}
    for _ in range(30):
        r = get(emu)
        assert r.status_code == 200
        assert not [h for h in r.headers if h.startswith("x-ratelimit")]
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    r = httpx.post(emu.url + "/v1/chat/completions", json=body, headers=AUTH)
    assert r.status_code == 200 and "x-ratelimit-limit-tokens" not in r.headers


def test_reset_restores_the_starting_limits(clocked: tuple[Emulator, ManualClock]) -> None:
    emu, _ = clocked
    emu.set_limits(rpm=1)
    get(emu)
    assert get(emu).status_code == 429
    emu.reset()
    assert emu.limits.rpm is None
    assert [get(emu).status_code for _ in range(3)] == [200, 200, 200]


def test_admin_limits_endpoint(clocked: tuple[Emulator, ManualClock]) -> None:
    emu, _ = clocked
    r = httpx.post(emu.url + "/_emulator/limits", json={"rpm": 1})
    assert r.status_code == 200 and r.json() == {"limits": {"rpm": 1, "tpm": None}}
    assert httpx.get(emu.url + "/_emulator/stats").json()["limits"] == {"rpm": 1, "tpm": None}
    assert [get(emu).status_code for _ in range(2)] == [200, 429]
    assert httpx.post(emu.url + "/_emulator/limits", json={}).json()["limits"]["rpm"] is None
    assert get(emu).status_code == 200
    for bad in ({"rpm": 0}, {"tpm": -5}, {"rpm": "3"}, {"rpm": True}, {"burst": 2}):
        r = httpx.post(emu.url + "/_emulator/limits", json=bad)
        assert r.status_code == 400, bad
    with pytest.raises(ValueError):
        emu.set_limits(rpm=0)


def test_quotas_do_not_apply_to_unauthenticated_media(
    clocked: tuple[Emulator, ManualClock],
) -> None:
    emu, _ = clocked
    emu.set_limits(rpm=1)
    r = httpx.get(emu.url + "/idfile", params={"path": "/tmp/nothing"})
    assert "x-ratelimit-limit-requests" not in r.headers
    assert get(emu).status_code == 200  # the media request took nothing from the key


def test_a_speed_change_never_moves_platform_time_back() -> None:
    real = ManualClock()
    clock = PlatformClock(real, speed=1.0)
    real.advance(10)
    clock.set_speed(50.0)
    assert clock.now() == 10.0  # the ten seconds already passed stay passed
    real.advance(1)
    assert clock.now() == 60.0
    clock.set_speed(0.5)
    clock.advance(5)
    real.advance(2)
    assert clock.now() == 66.0


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.8, "800ms"), (0.0004, "0s"), (40, "40s"), (1.5, "1.5s"), (60, "1m0s"), (125.25, "2m5.25s")],
)
def test_reset_headers_use_openai_durations(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_a_request_is_counted_on_arrival_and_refused_at_once_not_after_its_latency(
    clocked: tuple[Emulator, ManualClock],
) -> None:
    # A gateway counts a request when it arrives; the latency is the answer's time. Counted
    # after it, every window of a run opened a latency late (its first request's).
    emu, clock = clocked
    emu.set_limits(rpm=1)
    slow = {**AUTH, "X-Emulator-Fault": "latency=0.5"}
    with httpx.Client(base_url=emu.url, headers=slow, timeout=10) as client:
        first = threading.Thread(target=client.get, args=(MODELS,))
        first.start()
        time.sleep(0.2)  # it has arrived, and waits out its latency
        clock.advance(30)
        first.join()
        refused = client.get(MODELS)
    assert refused.status_code == 429
    assert refused.elapsed.total_seconds() < 0.4  # answered at once, not after 0.5 s
    # The window opened when the first request arrived, 30 s ago: 30 of its 60 s are left.
    assert refused.headers["x-ratelimit-reset-requests"] == "30s"
