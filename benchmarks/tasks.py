"""200 video tasks in the background at once: how many polls, and does the kernel stay usable?

Run: ``.venv/bin/python benchmarks/tasks.py [--tasks 200] [--speed 10]``

The emulator (``python -m yjnb.emulator``) runs in its own process on a free loopback port, so
its work does not compete with the "kernel" here for the GIL. The kernel is a real IPython
`InteractiveShell` with ``%load_ext yjnb``; every task is started with ``%yj_video --bg``, so
the whole path is measured: the magic, the submit, the live card, the background watcher on the
runner loop, the download of video and cover, and the usage ledger (under a temporary
``YJ_HOME``).

Time is scaled so the run takes seconds: the emulator runs ``--speed`` times faster (a video
takes 26 s / speed) and the poll schedule is yjnb's default shape (1 s growing x1.5 to 10 s,
+-20 % jitter) divided by the same factor, so the number of polls is what it would be at
full scale.

Figures:

1. Poll requests (``GET /llmage/v1/tasks`` counted by the emulator) against the minimum the
   schedule allows: for each task, the polls the schedule needs without jitter to first look
   after the task's duration has passed (the task's clock starts at its submit). Target: at
   most 1.2x.
2. A trivial cell (``x = 1 + 1`` through ``run_cell``) while the tasks poll: median, p95 and
   worst of 100 runs. Target: under 50 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from _emulator_proc import emulator_process

VIDEO_SECONDS = 2.0 + 4.0 + 20.0  # the emulator's CREATED + PENDING + RUNNING, at speed 1


def schedule_polls(duration: float, first: float, factor: float, cap: float) -> int:
    """Polls the schedule needs (no jitter) for a task of `duration` seconds: the first poll
    at once, then after each delay, until one comes at or after `duration`."""
    polls, t, delay = 1, 0.0, first
    while t < duration:
        t += delay
        delay = min(delay * factor, cap)
        polls += 1
    return polls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--speed", type=float, default=2.0)
    parser.add_argument("--cells", type=int, default=100)
    args = parser.parse_args()

    from IPython.core.displaypub import CapturingDisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell

    from yjnb._tasks import PollSchedule
    from yjnb.emulator import DEMO_KEY

    scale = 1.0 / args.speed
    default = PollSchedule()
    poll = PollSchedule(
        first=default.first * scale, factor=default.factor, cap=default.cap * scale,
        jitter=default.jitter,
    )  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="yjnb-bench-tasks-"))
    os.chdir(work)
    with emulator_process(args.speed) as url:
        os.environ.update(YJ_API_KEY=DEMO_KEY, YJ_BASE_URL=url, YJ_HOME=str(work / "home"))
        shell = InteractiveShell.instance()
        shell.run_line_magic("load_ext", "yjnb")
        magics: Any = shell.magics_manager.registry["YJMagics"]
        magics.session.client_options = {"poll": poll}
        shell.display_pub = CapturingDisplayPublisher()  # cards go here, not to the terminal

        started = time.perf_counter()
        for i in range(args.tasks):
            shell.run_line_magic("yj_video", f"--bg duration=1 resolution=540p cat number {i}")
        submitted = time.perf_counter() - started

        cells: list[float] = []
        live = magics.session.watchers
        polling_at_start = sum(1 for w in live.values() if not w.done)
        while len(cells) < args.cells:
            t0 = time.perf_counter()
            shell.run_cell("x = 1 + 1", store_history=False)
            cells.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.01)
        polling_during_cells = min(polling_at_start, sum(1 for w in live.values() if not w.done))
        for w in list(live.values()):
            w.result(timeout=600)
        total = time.perf_counter() - started
        stats = httpx.get(url + "/_emulator/stats").json()
        counts = stats.get("counts", stats)
        polls = int(counts.get("GET /llmage/v1/tasks", 0))
        done = sum(1 for w in live.values() if w.task.status == "SUCCEEDED")
        saved = sum(1 for w in live.values() if w.task.local_paths.get("video"))

    minimum = args.tasks * schedule_polls(VIDEO_SECONDS * scale, poll.first, poll.factor, poll.cap)
    cells.sort()
    p95 = cells[int(0.95 * (len(cells) - 1))]
    print(f"emulator: separate process, speed {args.speed:g}x; poll schedule /{args.speed:g}")
    print(f"tasks: {args.tasks} started with %yj_video --bg in {submitted:.2f} s; "
          f"{done} succeeded, {saved} saved; all done after {total:.1f} s")  # fmt: skip
    print(f"poll requests: {polls} vs schedule minimum {minimum} -> {polls / minimum:.3f}x "
          f"(target <= 1.2x)")  # fmt: skip
    print(f"trivial cell while {polling_at_start} -> {polling_during_cells} tasks polled: median "
          f"{statistics.median(cells):.2f} ms, p95 {p95:.2f} ms, worst {cells[-1]:.2f} ms "
          f"(target < 50 ms)")  # fmt: skip


if __name__ == "__main__":
    main()
