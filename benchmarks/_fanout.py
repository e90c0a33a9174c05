"""The fan-out rows of ``client.py``: many non-streamed chats at once, yjnb against references
run side by side in the same rounds, on the emulator in its own process.

Each row sends the same chats at the same concurrency; ``time.process_time()`` around a row
counts this process's CPU only, so CPU per request compares the clients' own work. Each row
starts from ``gc.collect()``: a full collection is brought on by the objects that survived
since the last one, and without it the row that happened to cross the threshold paid for the
rows before it (the same row every round, as the order repeats). The garbage collector's share
of each row's CPU is reported beside it. Rows:

- ``yjnb.AsyncClient``: as shipped (its requests straight onto aiohttp's pool,
  ``yjnb._transport.AiohttpClient``), recording every call in the usage ledger as users have it;
- ``yjnb, ledger off``: the same client with the ledger switched off, to show its share;
- ``yjnb over httpx-aiohttp``: yjnb with ``transport=httpx_aiohttp.AiohttpTransport(...)``,
  httpx's client over aiohttp's pool: what it shipped before the direct path;
- ``raw aiohttp``: one ``aiohttp.ClientSession``, the same JSON body, the answer's text;
- ``httpx over httpx-aiohttp``: one plain ``httpx.AsyncClient`` on that transport;
- ``plain httpx``: one plain ``httpx.AsyncClient`` (200 connections, 50 kept alive);
- ``AsyncOpenAI`` and ``AsyncOpenAI (aiohttp)``: the SDK as it comes, and with its
  ``DefaultAioHttpClient``.
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import io
import pstats
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import httpx
import openai
from httpx_aiohttp import AiohttpTransport

import yjnb
import yjnb.ledger
from yjnb._http import DEFAULT_TIMEOUT
from yjnb.emulator import DEMO_KEY
from yjnb.protocols import create

CHATS = 1000  # `client.py --chats N` changes it (and the ideal) for a quicker run
IN_FLIGHT = 100
LATENCY_S = 0.2
IDEAL_S = CHATS / IN_FLIGHT * LATENCY_S


def set_chats(chats: int) -> None:
    global CHATS, IDEAL_S
    CHATS = chats
    IDEAL_S = CHATS / IN_FLIGHT * LATENCY_S


YJNB = "yjnb.AsyncClient"
NO_LEDGER = "yjnb, ledger off"
YJNB_HTTPX = "yjnb over httpx-aiohttp"
AIOHTTP = "raw aiohttp"
HTTPX_AIOHTTP = "httpx over httpx-aiohttp"
HTTPX = "plain httpx"
SDK = "AsyncOpenAI"
SDK_AIOHTTP = "AsyncOpenAI (aiohttp)"


@dataclass
class Row:
    """One client's rounds: wall seconds, client CPU seconds, and the CPU seconds of it the
    cyclic garbage collector took, per round."""

    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    gcs: list[float] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)

    @property
    def cpu_per_request_ms(self) -> float:
        return statistics.median(self.cpus) / CHATS * 1000

    @property
    def gc_per_request_ms(self) -> float:
        return statistics.median(self.gcs) / CHATS * 1000


class GCClock:
    """CPU seconds spent in the cyclic garbage collector (`gc.callbacks`)."""

    def __init__(self) -> None:
        self.total = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.process_time()
        else:
            self.total += time.process_time() - self._started


async def fanout(call: Callable[[], Awaitable[str]]) -> float:
    """Wall seconds for `CHATS` calls with at most `IN_FLIGHT` at once; checks every answer."""
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one() -> str:
        async with gate:
            return await call()

    start = time.perf_counter()
    answers = await asyncio.gather(*(one() for _ in range(CHATS)))
    elapsed = time.perf_counter() - start
    if len(answers) != CHATS or not all(answers):
        raise AssertionError("some chats came back empty")
    return elapsed


def answer_text(protocol: str, answer: Any) -> str:
    if protocol == "openai":
        return str(answer["choices"][0]["message"]["content"])
    return str(answer["content"])


async def clients(url: str, protocol: str, model: str, sdk_path: str) -> dict[str, Any]:
    """Every row's client, made inside the loop they run on."""
    fault = {"X-Emulator-Fault": f"latency={LATENCY_S:g}"}
    auth = {"Authorization": f"Bearer {DEMO_KEY}"}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)

    def yj(transport: Any = None) -> yjnb.AsyncClient:
        return yjnb.AsyncClient(
            api_key=DEMO_KEY, base_url=url, headers=fault, timeout=60.0, protocol=protocol,
            transport=transport,
        )  # fmt: skip

    sdk_args = dict(base_url=url + sdk_path, api_key=DEMO_KEY, default_headers=fault)
    return {
        YJNB: yj(),
        YJNB_HTTPX: yj(AiohttpTransport(limits=limits)),
        AIOHTTP: aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=200), headers={**fault, **auth}
        ),
        HTTPX_AIOHTTP: httpx.AsyncClient(
            timeout=DEFAULT_TIMEOUT,
            headers={**fault, **auth},
            transport=AiohttpTransport(limits=limits),
        ),
        HTTPX: httpx.AsyncClient(timeout=60.0, limits=limits, headers={**fault, **auth}),
        SDK: openai.AsyncOpenAI(**sdk_args, timeout=60.0, max_retries=0),
        SDK_AIOHTTP: openai.AsyncOpenAI(
            **sdk_args, timeout=60.0, max_retries=0, http_client=openai.DefaultAioHttpClient()
        ),
    }


def calls(
    made: dict[str, Any], url: str, protocol: str, model: str, sdk_path: str, prompt: str
) -> dict[str, Callable[[], Awaitable[str]]]:
    """One chat per row, all asking the same thing (the raw rows send yjnb's very body)."""
    chat = made[YJNB].prepare_chat(prompt, model=model, max_tokens=20)
    body = create(protocol, url).chat_request(chat, [], []).json
    endpoint = url + sdk_path + "/chat/completions"
    messages = [{"role": "user", "content": prompt}]

    def yj(client: yjnb.AsyncClient) -> Callable[[], Awaitable[str]]:
        async def call() -> str:
            return (await client.chat(prompt, model=model, max_tokens=20)).text

        return call

    async def raw_aiohttp() -> str:
        async with made[AIOHTTP].post(endpoint, json=body) as response:
            response.raise_for_status()
            return answer_text(protocol, await response.json())

    def plain(client: httpx.AsyncClient) -> Callable[[], Awaitable[str]]:
        async def call() -> str:
            response = await client.post(endpoint, json=body)
            response.raise_for_status()
            return answer_text(protocol, response.json())

        return call

    def sdk(client: openai.AsyncOpenAI) -> Callable[[], Awaitable[str]]:
        async def call() -> str:
            answer = await client.chat.completions.create(
                model=model, messages=messages, max_tokens=20
            )
            return answer.choices[0].message.content or ""

        return call

    return {
        YJNB: yj(made[YJNB]),
        NO_LEDGER: yj(made[YJNB]),
        YJNB_HTTPX: yj(made[YJNB_HTTPX]),
        AIOHTTP: raw_aiohttp,
        HTTPX_AIOHTTP: plain(made[HTTPX_AIOHTTP]),
        HTTPX: plain(made[HTTPX]),
        SDK: sdk(made[SDK]),
        SDK_AIOHTTP: sdk(made[SDK_AIOHTTP]),
    }


async def close(made: dict[str, Any]) -> None:
    for client in made.values():
        await (client.aclose() if hasattr(client, "aclose") else client.close())


def profile_yjnb(loop: asyncio.AbstractEventLoop, call: Callable[[], Awaitable[str]]) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    loop.run_until_complete(fanout(call))
    profiler.disable()
    out = io.StringIO()
    out.write(f"\n### cProfile: {CHATS:,} yjnb chats, {IN_FLIGHT} in flight (tottime)\n")
    stats = pstats.Stats(profiler, stream=out).sort_stats("tottime")
    stats.print_stats(12)
    out.write("\n### the same, yjnb's own functions (cumulative)\n")
    stats.sort_stats("cumulative").print_stats(r"yjnb[/\\]", 12)
    return out.getvalue()


def fanout_rows(
    url: str, protocol: str, model: str, sdk_path: str, prompt: str, rounds: int, profile: bool
) -> tuple[dict[str, Row], str]:
    """Every row `rounds` times, interleaved (the first round opens the connections, so it
    is left out of the medians when there are more); a cProfile of yjnb if asked."""
    loop = asyncio.new_event_loop()
    made = loop.run_until_complete(clients(url, protocol, model, sdk_path))
    rows: dict[str, Row] = {}
    profiled = ""
    try:
        chats = calls(made, url, protocol, model, sdk_path, prompt)
        rows = {name: Row() for name in chats}
        clock = GCClock()
        gc.callbacks.append(clock)
        for _ in range(rounds):
            for name, call in chats.items():
                yjnb.ledger.configure(enabled=name != NO_LEDGER)
                # Each row starts from a full collection, so that no row pays for a full
                # pass that the objects of the rows before it brought on.
                gc.collect()
                clock.total, start = 0.0, time.process_time()
                rows[name].walls.append(loop.run_until_complete(fanout(call)))
                yjnb.ledger.flush()  # the writer thread's CPU is the row's, not the next one's
                rows[name].cpus.append(time.process_time() - start)
                rows[name].gcs.append(clock.total)
                yjnb.ledger.configure(enabled=True)
        gc.callbacks.remove(clock)
        if rounds > 1:
            for row in rows.values():
                del row.walls[0], row.cpus[0], row.gcs[0]
        if profile:
            profiled = profile_yjnb(loop, chats[YJNB])
    finally:
        loop.run_until_complete(close(made))
        loop.close()
    return rows, profiled
