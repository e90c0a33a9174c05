"""What the yjnb client itself costs, measured against the openai SDK on the same emulator.

Run: ``.venv/bin/python benchmarks/client.py [--profile] [--protocol openai]``

``--protocol openai`` runs the same rows on the emulator's OpenAI-compatible side (``/v1``),
where yjnb (``protocol="openai"``) and the SDK send and parse exactly the same wire format.

The emulator (``python -m yjnb.emulator``) runs as a separate process on a free loopback port,
so ``time.process_time()`` here counts the client's CPU only (every thread of this process,
which includes the sync facade's runner thread: its hand-over cost is part of the price).

Rows:

1. CPU per streamed chunk: one ~20,000-chunk stream consumed by ``yjnb.AsyncClient``,
   ``yjnb.Client``, ``openai.AsyncOpenAI`` and ``openai.OpenAI``, interleaved (A B C D, five
   rounds), median CPU seconds per run divided by the text chunks received. Both consumers
   must receive the same chunks and the same text.
2. 1,000 non-streamed chats, 100 in flight, 200 ms of emulator latency each: wall time
   against the ideal 1000 / 100 x 0.2 s = 2 s. For reference, the SDK on the same load and
   bare httpx with yjnb's own transport settings (the floor yjnb's code sits on).
3. Import cost: ``python -c "import yjnb"`` minus ``python -c "pass"`` (medians of 15
   alternating runs), plus ``-X importtime``'s cumulative figure for ``yjnb``.

The usage ledger stays on (as users have it) but is written under a temporary ``YJ_HOME``, so
the runs do not land in your own ``~/.yjnb/ledger.sqlite``.

Everything is reported as a ratio (yjnb / SDK, or measured / ideal) because absolute figures
depend on the machine; the ratio to a reference run side by side on the same machine does not
(much), and the targets are ratios: CPU at most 1.0x the SDK's, the fan-out at most 1.3x ideal.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import openai
from _emulator_proc import emulator_process

import yjnb
from yjnb.emulator import DEMO_KEY
from yjnb.protocols import create

MODEL = "qwen3-max"
# protocol -> (chat model, the SDK's base path on the emulator)
TARGETS = {"yuanjing": ("qwen3-max", "/llmage/v1"), "openai": ("gemini-2.5-flash", "/v1")}
PROMPT = "Tell me a long story about the platform."
STREAM_TOKENS = 20_000
ROUNDS = 5
FANOUT_CHATS = 1000
FANOUT_IN_FLIGHT = 100
FANOUT_LATENCY_S = 0.2
FANOUT_ROUNDS = 3
IMPORT_RUNS = 15
CPU_TARGET = 1.0
FANOUT_TARGET = 1.3
IMPORT_TARGET_MS = 50.0
SDK_PATH = "/llmage/v1"
PROTOCOL = "yuanjing"


@dataclass
class Consumed:
    """What one consumer got from the stream, and the CPU it spent."""

    chunks: int
    text: str
    cpu_s: float


# -- the emulator ---------------------------------------------------------------------------


# -- 1. CPU per streamed chunk ----------------------------------------------------------------


async def yjnb_async_stream(client: yjnb.AsyncClient, tokens: int) -> Consumed:
    start = time.process_time()
    parts: list[str] = []
    stream = await client.chat(PROMPT, model=MODEL, stream=True, max_tokens=tokens)
    async for chunk in stream:
        if chunk.text:
            parts.append(chunk.text)
    cpu = time.process_time() - start
    return Consumed(len(parts), "".join(parts), cpu)


def yjnb_sync_stream(client: yjnb.Client, tokens: int) -> Consumed:
    start = time.process_time()
    parts: list[str] = []
    for chunk in client.chat(PROMPT, model=MODEL, stream=True, max_tokens=tokens):
        if chunk.text:
            parts.append(chunk.text)
    cpu = time.process_time() - start
    return Consumed(len(parts), "".join(parts), cpu)


def _messages() -> list[dict[str, str]]:
    return [{"role": "user", "content": PROMPT}]


async def sdk_async_stream(client: openai.AsyncOpenAI, tokens: int) -> Consumed:
    start = time.process_time()
    parts: list[str] = []
    stream = await client.chat.completions.create(
        model=MODEL, messages=_messages(), stream=True, max_tokens=tokens
    )
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            parts.append(chunk.choices[0].delta.content)
    cpu = time.process_time() - start
    return Consumed(len(parts), "".join(parts), cpu)


def sdk_sync_stream(client: openai.OpenAI, tokens: int) -> Consumed:
    start = time.process_time()
    parts: list[str] = []
    stream = client.chat.completions.create(
        model=MODEL, messages=_messages(), stream=True, max_tokens=tokens
    )
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            parts.append(chunk.choices[0].delta.content)
    cpu = time.process_time() - start
    return Consumed(len(parts), "".join(parts), cpu)


@dataclass
class Consumers:
    loop: asyncio.AbstractEventLoop
    yj_async: yjnb.AsyncClient
    yj_sync: yjnb.Client
    sdk_async: openai.AsyncOpenAI
    sdk_sync: openai.OpenAI

    def runs(self, tokens: int) -> dict[str, Callable[[], Consumed]]:
        """One callable per consumer, in the interleaving order A B C D."""
        return {
            "yjnb.AsyncClient": lambda: self.loop.run_until_complete(
                yjnb_async_stream(self.yj_async, tokens)
            ),
            "yjnb.Client": lambda: yjnb_sync_stream(self.yj_sync, tokens),
            "openai.AsyncOpenAI": lambda: self.loop.run_until_complete(
                sdk_async_stream(self.sdk_async, tokens)
            ),
            "openai.OpenAI": lambda: sdk_sync_stream(self.sdk_sync, tokens),
        }


@contextmanager
def consumers(url: str) -> Iterator[Consumers]:
    loop = asyncio.new_event_loop()  # one loop for every async run, so clients persist
    timeout = 60.0
    c = Consumers(
        loop=loop,
        yj_async=yjnb.AsyncClient(
            api_key=DEMO_KEY, base_url=url, timeout=timeout, protocol=PROTOCOL
        ),
        yj_sync=yjnb.Client(api_key=DEMO_KEY, base_url=url, timeout=timeout, protocol=PROTOCOL),
        sdk_async=openai.AsyncOpenAI(
            base_url=url + SDK_PATH, api_key=DEMO_KEY, timeout=timeout, max_retries=0
        ),
        sdk_sync=openai.OpenAI(
            base_url=url + SDK_PATH, api_key=DEMO_KEY, timeout=timeout, max_retries=0
        ),
    )
    try:
        yield c
    finally:
        loop.run_until_complete(c.yj_async.aclose())
        loop.run_until_complete(c.sdk_async.close())
        loop.close()
        c.yj_sync.close()
        c.sdk_sync.close()


def cpu_per_chunk(c: Consumers, tokens: int, rounds: int) -> dict[str, Consumed]:
    """Median CPU per consumer over interleaved rounds; checks that all got the same text."""
    runs = c.runs(tokens)
    for run in runs.values():  # warm-up: connections, lazy imports, caches
        run()
    samples: dict[str, list[Consumed]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            samples[name].append(run())
    reference = samples["openai.OpenAI"][0]
    for name, got in samples.items():
        for one in got:
            if one.chunks != reference.chunks or one.text != reference.text:
                raise AssertionError(
                    f"{name} received {one.chunks} chunks / {len(one.text)} chars, "
                    f"the SDK {reference.chunks} / {len(reference.text)}"
                )
    return {
        name: Consumed(got[0].chunks, got[0].text, statistics.median(s.cpu_s for s in got))
        for name, got in samples.items()
    }


# -- 2. fan-out -------------------------------------------------------------------------------


async def fanout(call: Callable[[], Awaitable[str]], chats: int, in_flight: int) -> float:
    """Wall seconds for `chats` calls with at most `in_flight` at once; checks every answer."""
    gate = asyncio.Semaphore(in_flight)

    async def one() -> str:
        async with gate:
            return await call()

    start = time.perf_counter()
    answers = await asyncio.gather(*(one() for _ in range(chats)))
    elapsed = time.perf_counter() - start
    if len(answers) != chats or not all(answers):
        raise AssertionError("some chats came back empty")
    return elapsed


def fanout_rows(url: str, rounds: int, profile: bool = False) -> tuple[dict[str, list[float]], str]:
    fault = {"X-Emulator-Fault": f"latency={FANOUT_LATENCY_S:g}"}
    loop = asyncio.new_event_loop()
    yj = yjnb.AsyncClient(
        api_key=DEMO_KEY, base_url=url, headers=fault, timeout=60.0, protocol=PROTOCOL
    )
    sdk = openai.AsyncOpenAI(
        base_url=url + SDK_PATH,
        api_key=DEMO_KEY,
        default_headers=fault,
        timeout=60.0,
        max_retries=0,
    )

    # One plain httpx client (a pool of 200, 50 kept alive): the transport without yjnb.
    raw = httpx.AsyncClient(
        timeout=60.0,
        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        headers={**fault, "Authorization": f"Bearer {DEMO_KEY}"},
    )
    # The raw reference sends the very body yjnb's protocol builds.
    protocol = create(PROTOCOL, url)
    chat = yj.prepare_chat(PROMPT, model=MODEL, max_tokens=20)
    body = protocol.chat_request(chat, [], []).json

    async def yj_call() -> str:
        return (await yj.chat(PROMPT, model=MODEL, max_tokens=20)).text

    async def raw_call() -> str:
        response = await raw.post(url + SDK_PATH + "/chat/completions", json=body)
        response.raise_for_status()
        answer = response.json()
        if PROTOCOL == "openai":
            return str(answer["choices"][0]["message"]["content"])
        return str(answer["content"])

    async def sdk_call() -> str:
        answer = await sdk.chat.completions.create(model=MODEL, messages=_messages(), max_tokens=20)
        return answer.choices[0].message.content or ""

    calls = {"yjnb.AsyncClient": yj_call, "openai.AsyncOpenAI": sdk_call, "bare httpx": raw_call}
    walls: dict[str, list[float]] = {name: [] for name in calls}
    cpu: dict[str, list[float]] = {name: [] for name in calls}
    profiled = ""
    try:
        for _ in range(rounds):  # interleaved; the first round includes opening connections
            for name, call in calls.items():
                start = time.process_time()
                walls[name].append(
                    loop.run_until_complete(fanout(call, FANOUT_CHATS, FANOUT_IN_FLIGHT))
                )
                cpu[name].append(time.process_time() - start)
        ideal = FANOUT_CHATS / FANOUT_IN_FLIGHT * FANOUT_LATENCY_S
        if profile or statistics.median(walls["yjnb.AsyncClient"]) / ideal > FANOUT_TARGET:
            profiler = cProfile.Profile()
            profiler.enable()
            loop.run_until_complete(fanout(yj_call, FANOUT_CHATS, FANOUT_IN_FLIGHT))
            profiler.disable()
            out = io.StringIO()
            out.write(f"\n### cProfile: {FANOUT_CHATS:,} yjnb chats, 100 in flight (tottime)\n")
            stats = pstats.Stats(profiler, stream=out).sort_stats("tottime")
            stats.print_stats(12)
            out.write("\n### the same, yjnb's own functions (cumulative)\n")
            stats.sort_stats("cumulative").print_stats(r"yjnb[/\\]", 12)
            profiled = out.getvalue()
    finally:
        loop.run_until_complete(yj.aclose())
        loop.run_until_complete(sdk.close())
        loop.run_until_complete(raw.aclose())
        loop.close()
    walls_cpu = {f"{name} (client CPU s)": got for name, got in cpu.items()}
    return {**walls, **walls_cpu}, profiled


# -- 3. import cost ---------------------------------------------------------------------------


def import_cost(runs: int) -> tuple[float, float, int | None]:
    """Median wall ms of `import yjnb` and of `pass` in a fresh interpreter; importtime µs."""
    times: dict[str, list[float]] = {"pass": [], "import yjnb": []}
    for _ in range(runs):
        for code in times:  # alternating, so drift hits both alike
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True)
            times[code].append((time.perf_counter() - start) * 1000)
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import yjnb"],
        check=True,
        capture_output=True,
        text=True,
    )
    cumulative = None
    for line in proc.stderr.splitlines():
        fields = line.removeprefix("import time:").split("|")
        if len(fields) == 3 and fields[2].strip() == "yjnb":
            cumulative = int(fields[1])
    return statistics.median(times["import yjnb"]), statistics.median(times["pass"]), cumulative


# -- profile ----------------------------------------------------------------------------------


def profile_yjnb(c: Consumers, tokens: int) -> str:
    """cProfile of one async and one sync yjnb run (the runner thread is not profiled)."""
    out = io.StringIO()
    runs = c.runs(tokens)
    for name in ("yjnb.AsyncClient", "yjnb.Client"):
        profiler = cProfile.Profile()
        profiler.enable()
        runs[name]()
        profiler.disable()
        out.write(f"\n### cProfile: {name}, {tokens} chunks (tottime)\n")
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(14)
    return out.getvalue()


# -- report -----------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "ok" if ok else "**MISSED**"


def report(
    cpu: dict[str, Consumed],
    walls: dict[str, list[float]],
    imports: tuple[float, float, int | None],
) -> tuple[str, list[str]]:
    misses: list[str] = []
    us = {name: got.cpu_s / got.chunks * 1e6 for name, got in cpu.items()}
    chunks = cpu["openai.OpenAI"].chunks
    rows = [
        "| measure | yjnb | reference | ratio | target | |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for label, yj, sdk in (
        ("async", "yjnb.AsyncClient", "openai.AsyncOpenAI"),
        ("sync", "yjnb.Client", "openai.OpenAI"),
    ):
        ratio = us[yj] / us[sdk]
        ok = ratio <= CPU_TARGET
        if not ok:
            misses.append(f"CPU per chunk ({label}) is {ratio:.2f}x the SDK's")
        rows.append(
            f"| CPU per streamed chunk, {label} ({chunks:,} chunks) | {us[yj]:.1f} µs "
            f"| {us[sdk]:.1f} µs (`{sdk}`) | {ratio:.2f}x | ≤ {CPU_TARGET:.1f}x | {verdict(ok)} |"
        )
    ideal = FANOUT_CHATS / FANOUT_IN_FLIGHT * FANOUT_LATENCY_S
    yj_wall = statistics.median(walls["yjnb.AsyncClient"])
    sdk_wall = statistics.median(walls["openai.AsyncOpenAI"])
    raw_wall = statistics.median(walls["bare httpx"])
    ok = yj_wall / ideal <= FANOUT_TARGET
    if not ok:
        misses.append(f"the fan-out takes {yj_wall / ideal:.2f}x the ideal")
    rows.append(
        f"| {FANOUT_CHATS:,} chats, {FANOUT_IN_FLIGHT} in flight, "
        f"{FANOUT_LATENCY_S * 1000:.0f} ms latency (wall) | {yj_wall:.2f} s "
        f"| ideal {ideal:.2f} s; `AsyncOpenAI` {sdk_wall:.2f} s ({sdk_wall / ideal:.2f}x); "
        f"bare httpx {raw_wall:.2f} s ({raw_wall / ideal:.2f}x) "
        f"| {yj_wall / ideal:.2f}x | ≤ {FANOUT_TARGET:.1f}x | {verdict(ok)} |"
    )
    with_yjnb, bare, cumulative = imports
    extra = with_yjnb - bare
    ok = extra <= IMPORT_TARGET_MS
    if not ok:
        misses.append(f"`import yjnb` costs {extra:.0f} ms")
    importtime = "n/a" if cumulative is None else f"{cumulative / 1000:.1f} ms"
    rows.append(
        f"| `import yjnb` (extra wall over `python -c pass`) | {extra:.1f} ms "
        f"| `pass` {bare:.1f} ms; `-X importtime` cumulative {importtime} "
        f"| +{extra:.1f} ms | ≤ {IMPORT_TARGET_MS:.0f} ms | {verdict(ok)} |"
    )
    details = [
        "",
        "Runs (CPU s per stream, median of "
        + f"{ROUNDS}): "
        + ", ".join(f"{name} {got.cpu_s:.3f}" for name, got in cpu.items()),
        "Fan-out per round, wall s (first round opens the connections) and client CPU s: "
        + "; ".join(f"{name} " + ", ".join(f"{w:.2f}" for w in ws) for name, ws in walls.items()),
    ]
    return "\n".join(rows + details), misses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=STREAM_TOKENS, help="chunks per stream")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="interleaved A B C D rounds")
    parser.add_argument(
        "--profile", action="store_true", help="also cProfile the yjnb consumers (always on miss)"
    )
    parser.add_argument(
        "--protocol", choices=sorted(TARGETS), default="yuanjing", help="which API side to use"
    )
    args = parser.parse_args()

    home = tempfile.TemporaryDirectory(prefix="yjnb-bench-")
    os.environ["YJ_HOME"] = home.name  # the ledger records the runs here, not in ~/.yjnb
    try:
        return run(args)
    finally:
        home.cleanup()


def run(args: argparse.Namespace) -> int:
    global MODEL, SDK_PATH, PROTOCOL
    PROTOCOL = args.protocol
    MODEL, SDK_PATH = TARGETS[PROTOCOL]
    imports = import_cost(IMPORT_RUNS)  # before the emulator starts: a quiet machine
    with emulator_process() as url, consumers(url) as c:
        cpu = cpu_per_chunk(c, args.tokens, args.rounds)
        walls, fanout_profile = fanout_rows(url, FANOUT_ROUNDS, args.profile)
        table, misses = report(cpu, walls, imports)
        print(
            f"protocol {PROTOCOL}: yjnb {yjnb.__version__} vs openai {openai.__version__}, "
            f"httpx {httpx.__version__}, python {sys.version.split()[0]}\n"
        )
        print(table)
        if misses:
            print("\nTargets missed: " + "; ".join(misses) + ".")
        if args.profile or any("CPU" in miss for miss in misses):
            print(profile_yjnb(c, args.tokens))
        if fanout_profile:
            print(fanout_profile)
    return 0  # a miss is printed above, not turned into a failing `make bench`


if __name__ == "__main__":
    sys.exit(main())
