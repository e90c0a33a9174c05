"""One adaptive limiter per profile for the whole kernel: the magics' paid calls (chats, media
submissions; not task polls) take its slots, as the experiments' calls do, and a 429 on either
halves the limit both use. Through a real IPython shell against the emulator."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from IPython.utils.capture import capture_output

import yjnb
from yjnb import _limiter
from yjnb._limiter import AdaptiveLimiter

CHAT_PATH = "/llmage/v1/chat/completions"
CHAT = "POST " + CHAT_PATH
IMAGE_POST = "POST /llmage/v1/image/generations"


class Recording(AdaptiveLimiter):
    """The limiter, counting the slots taken and the most calls it ever had in flight."""

    def __init__(self, start: int, ceiling: int) -> None:
        super().__init__(start=start, ceiling=ceiling)
        self.taken = 0
        self.peak = 0

    async def acquire(self, cap: int | None = None) -> None:
        await super().acquire(cap)
        with self._lock:
            self.taken += 1
            self.peak = max(self.peak, self._in_flight)


@pytest.fixture
def kernel_limiter(magics: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Install a fresh limiter for the magics' profile; `(start, ceiling)` set by `use`."""
    profile = magics.session.client().settings.profile

    def use(start: int, ceiling: int) -> Recording:
        limiter = Recording(start, ceiling)
        monkeypatch.setitem(_limiter._limiters, profile, limiter)
        return limiter

    yield use


def chat_cell(shell: Any, text: str) -> None:
    with capture_output():
        shell.run_cell_magic("yj_chat", "", text)


def test_a_magics_chat_takes_a_slot_and_its_429_halves_the_experiments_limit(
    shell: Any, magics: Any, emulator: Any, kernel_limiter: Any
) -> None:
    limiter = kernel_limiter(8, 8)
    emulator.set_faults(rate_limit=1, retry_after=0.01, times=1, path=CHAT_PATH)
    chat_cell(shell, "hello")
    assert emulator.count(CHAT) == 2  # the 429, waited out, and the answer
    assert limiter.taken == 1 and limiter.throttled_count == 1  # one slot, its 429 told
    assert limiter.limit == 5 and limiter.in_flight == 0  # halved to 4, then one success
    run = yjnb.experiment(["a", "b"], "Say {input}", client=magics.session.client())
    assert run.progress.limiter is limiter  # the experiment runs under the same limit
    assert limiter.taken == 3


def test_magic_chats_and_an_experiment_in_flight_together_share_one_limit(
    shell: Any, magics: Any, emulator: Any, kernel_limiter: Any
) -> None:
    limiter = kernel_limiter(3, 3)
    emulator.set_faults(latency=0.05, path=CHAT_PATH)  # calls long enough to overlap
    client = magics.session.client()
    runs: list[yjnb.Experiment] = []
    cells = [f"lamp {i}" for i in range(30)]
    worker = threading.Thread(
        target=lambda: runs.append(yjnb.experiment(cells, "Describe {input}", client=client))
    )
    worker.start()
    try:
        for i in range(4):
            chat_cell(shell, f"a question {i}")
    finally:
        worker.join(120)
    (run,) = runs
    assert run.counts["ok"] == 30
    # Every chat, the magic's and the experiment's, took a slot, and never more than 3 at once.
    assert emulator.count(CHAT) == 34 == limiter.taken
    assert limiter.peak == 3 and limiter.in_flight == 0


def test_a_media_submission_takes_a_slot_and_its_status_polls_do_not(
    ip: Any, emulator: Any, kernel_limiter: Any
) -> None:
    limiter = kernel_limiter(4, 4)
    with capture_output():
        ip.run_line_magic("yj_image", "-o t a red apple")
    assert ip.user_ns["t"].status == "SUCCEEDED"
    polls = sum(n for name, n in emulator.counts.items() if name.startswith("GET "))
    assert emulator.count(IMAGE_POST) == 1 == limiter.taken and polls >= 1
