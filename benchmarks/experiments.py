"""`yjnb.experiment` under a quota, from its cache, and its CPU per call beside raw aiohttp.

Run: ``.venv/bin/python benchmarks/experiments.py`` (about a minute; ``--cells N`` for less).

The emulators run as processes of their own (``_emulator_proc``), so ``time.process_time()``
here counts the client's CPU only (every thread: the runner loop's, the ledger writer's).
Every answer and ledger row lands under a temporary ``YJ_HOME``. Rows:

1. **Quota**: 1,000 cells (250 rows x 2 prompts x 2 models) against an emulator whose per-key
   quota (``--rpm``, a fixed window of one emulator minute, ``--speed`` minutes a minute)
   admits ``rpm`` calls a window: the last of ``ceil(1000 / rpm)`` windows opens
   ``(windows - 1) x 60 / speed`` seconds after the first call, the least time the calls can
   take. Each call also waits 0.2 s in the emulator (a header fault), as a real answer does.
   Reported: wall / that minimum (target <= 1.1x), failed rows (target 0), 429s waited out.
2. **Cache**: the same 1,000 cells again, answered from ``experiments.sqlite`` (target <= 1 s).
3. **CPU per call**: on a second emulator without a quota, 1,000 cells with ``cache=False``
   (every call made: the experiment's whole path, limiter, cache writes and ledger included)
   beside 1,000 raw aiohttp requests with the same body, 64 in flight, in alternating rounds;
   medians. Target: yjnb's CPU per call <= 1 ms. Its ratio to raw aiohttp is shown as well,
   and the part of it the ledger's writer thread spent (from ``/proc``, on Linux).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from _emulator_proc import emulator_process

import yjnb
from yjnb.emulator import DEMO_KEY
from yjnb.protocols import create

CELLS = 1000
SPEED = 6.0  # one emulator minute is 10 real seconds
WINDOWS = 3  # rpm = ceil(cells / 3): the last of 3 windows opens 20 s after the first call
LATENCY_S = 0.2
IN_FLIGHT = 64  # the limiter's ceiling, and raw aiohttp's concurrency
ROUNDS = 5  # the median of 5 (the first round left out): one round swings ±15 % under load
WALL_TARGET = 1.1
CACHE_TARGET_S = 1.0
CPU_TARGET_MS = 1.0
MODELS = ["qwen3-max", "qwen-plus"]
PROMPTS = {"short": "Describe {product} in one line.", "ad": "Write an ad for {product}."}
FAULT = {"X-Emulator-Fault": f"latency={LATENCY_S:g}"}


def products(cells: int) -> list[dict[str, str]]:
    rows = math.ceil(cells / (len(PROMPTS) * len(MODELS)))
    return [{"product": f"lamp no. {i}"} for i in range(rows)]


def minimum_s(cells: int, rpm: int, speed: float) -> float:
    """The quota's own arithmetic: the last window opens this long after the first call."""
    return (math.ceil(cells / rpm) - 1) * 60.0 / speed


@dataclass
class Timed:
    wall_s: float
    cpu_s: float
    run: yjnb.Experiment


def timed_experiment(client: yjnb.Client, cells: int, **kw: object) -> Timed:
    start, cpu = time.perf_counter(), time.process_time()
    run = yjnb.experiment(
        products(cells), PROMPTS, MODELS, client=client, name="bench", params={"max_tokens": 20},
        **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    return Timed(time.perf_counter() - start, time.process_time() - cpu, run)


def client_for(url: str) -> yjnb.Client:
    return yjnb.Client(api_key=DEMO_KEY, base_url=url, headers=FAULT, timeout=60.0)


def quota_rows(cells: int) -> tuple[Timed, Timed, float]:
    rpm = math.ceil(cells / WINDOWS)
    with emulator_process(SPEED, "--rpm", str(rpm)) as url:
        client = client_for(url)
        try:
            first = timed_experiment(client, cells)
            again = timed_experiment(client, cells)
        finally:
            client.close()
    return first, again, minimum_s(cells, rpm, SPEED)


async def raw_aiohttp_cpu(url: str, cells: int) -> float:
    """CPU seconds of `cells` raw aiohttp chats with yjnb's own body, IN_FLIGHT at a time."""
    prepared = yjnb.AsyncClient(api_key=DEMO_KEY, base_url=url)
    body = (
        create("yuanjing", url)
        .chat_request(
            prepared.prepare_chat(
                "Describe lamp no. 0 in one line.", model=MODELS[0], max_tokens=20
            ),
            [],
            [],
        )
        .json
    )
    await prepared.aclose()
    endpoint = url + "/llmage/v1/chat/completions"
    headers = {**FAULT, "Authorization": f"Bearer {DEMO_KEY}"}
    gate = asyncio.Semaphore(IN_FLIGHT)
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=200), headers=headers
    ) as session:

        async def one() -> str:
            async with gate, session.post(endpoint, json=body) as response:
                response.raise_for_status()
                return str((await response.json())["content"])

        start = time.process_time()
        answers = await asyncio.gather(*(one() for _ in range(cells)))
        cpu = time.process_time() - start
    assert all(answers)
    return cpu


def thread_cpu_s(native_id: int | None) -> float:
    """CPU seconds of one thread of this process so far (Linux's `/proc`; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/self/task/{native_id}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def writer_thread_id() -> int | None:
    """The ledger's writer thread (started by the first call's record)."""
    from yjnb.ledger import default_ledger

    writer = default_ledger()._writer
    thread = writer._thread if writer is not None else None
    return thread.native_id if thread is not None else None


def cpu_rows(cells: int) -> tuple[list[float], list[float], list[float]]:
    """Per round: yjnb's CPU per call, raw aiohttp's, and of yjnb's the ledger writer
    thread's (seconds), the first round left out."""
    yj: list[float] = []
    raw: list[float] = []
    writer: list[float] = []
    with emulator_process(SPEED) as url:
        client = client_for(url)
        try:
            for _ in range(ROUNDS + 1):
                before = thread_cpu_s(writer_thread_id())
                run = timed_experiment(client, cells, cache=False, concurrency=IN_FLIGHT)
                assert run.run.counts["ok"] == len(run.run.plan.cells)
                yj.append(run.cpu_s / run.run.counts["requests"])
                writer.append((thread_cpu_s(writer_thread_id()) - before) / cells)
                raw.append(asyncio.run(raw_aiohttp_cpu(url, cells)) / cells)
        finally:
            client.close()
    return yj[1:], raw[1:], writer[1:]


def loadavg() -> str:
    """The machine's load (`/proc/loadavg`'s first three): the CPU rows drift up with it."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=CELLS)
    cells = parser.parse_args().cells
    load_before = loadavg()
    with tempfile.TemporaryDirectory() as home:
        os.environ["YJ_HOME"] = home
        os.environ.pop("YJ_API_KEY", None)
        first, again, least = quota_rows(cells)
        Path(home, "experiments.sqlite").unlink()  # the CPU rows start from an empty cache
        yj, raw, writer = cpu_rows(cells)
    counts = first.run.counts
    ratio = first.wall_s / least if least else float("nan")
    yj_ms, raw_ms = statistics.median(yj) * 1000, statistics.median(raw) * 1000
    writer_ms = statistics.median(writer) * 1000
    n = len(first.run.plan.cells)
    rpm = math.ceil(cells / WINDOWS)
    print(f"\n{n} cells, rpm {rpm} at speed {SPEED:g} (minimum {least:.1f} s), Python "
          f"{sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load_before} before, "
          f"{loadavg()} after\n")  # fmt: skip
    print("| row | measured | target | |")
    print("|---|---|---|---|")
    print(
        f"| {n} calls under the quota: wall / minimum | {first.wall_s:.1f} s / {least:.1f} s = "
        f"**{ratio:.2f}x** ({counts['rate_limited']} 429s waited out) | <= {WALL_TARGET}x | "
        f"{verdict(ratio <= WALL_TARGET)} |"
    )
    print(f"| failed rows | **{counts['failed']}** | 0 | {verdict(counts['failed'] == 0)} |")
    cached = again.run.counts
    print(
        f"| the same {n} cells from the cache | **{again.wall_s:.2f} s** ({cached['cached']} "
        f"cached, {cached['requests']} requests) | <= {CACHE_TARGET_S:g} s | "
        f"{verdict(again.wall_s <= CACHE_TARGET_S and cached['requests'] == 0)} |"
    )
    print(
        f"| client CPU per call (no quota, cache=False) | **{yj_ms:.3f} ms** (raw aiohttp "
        f"{raw_ms:.3f} ms, {yj_ms / raw_ms:.2f}x; the ledger's writer thread {writer_ms:.3f} "
        f"ms of it) | <= {CPU_TARGET_MS:g} ms | "
        f"{verdict(yj_ms <= CPU_TARGET_MS)} |"
    )


if __name__ == "__main__":
    main()
