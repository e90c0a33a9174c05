"""How fast one emulator process serves chat streams (so client benchmarks measure the client).

Run: ``python benchmarks/emulator.py [--tokens 20000] [--streams 200] [--stream-tokens 2000]``

The emulator runs in its own process (``python -m yjnb.emulator``), as in demo mode, so the
consumer here does not share its interpreter. Rows:

* one consumer, raw bytes: the emulator's ceiling for one stream (events counted by ``\\n\\n``)
* one consumer, iter_lines + json.loads: a realistic parsing client on the same stream
* one consumer, unbatched: every event its own write (the path used when faults are set)
* N concurrent streams: how many finished completely, and the aggregate events per second
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Iterator

import httpx
from _emulator_proc import emulator_process

DEMO_KEY = "yj-demo-0000000000000000"
CHAT = "/llmage/v1/chat/completions"
HEADERS = {"Authorization": f"Bearer {DEMO_KEY}"}


def _body(tokens: int) -> dict[str, object]:
    return {"model": "qwen3-max", "prompt": "benchmark", "stream": True, "max_tokens": tokens}


def count_events(chunks: Iterator[bytes]) -> int:
    events, carry = 0, b""
    for chunk in chunks:
        events += (carry + chunk).count(b"\n\n")
        carry = chunk[-1:]
    return events


def single(url: str, tokens: int, mode: str) -> tuple[int, float]:
    headers = dict(HEADERS)
    if mode == "unbatched":  # any stream fault takes the one-write-per-event path
        headers["X-Emulator-Fault"] = "bad_chunk_after=100000000"
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        start = time.perf_counter()
        with client.stream("POST", CHAT, json=_body(tokens)) as r:
            if mode == "parse":
                events = 0
                for line in r.iter_lines():
                    if line.startswith("data: ") and line != "data: [DONE]":
                        json.loads(line[6:])
                        events += 1
                events += 1  # [DONE]
            else:
                events = count_events(r.iter_raw())
        return events, time.perf_counter() - start


async def concurrent(url: str, streams: int, tokens: int) -> tuple[int, int, float]:
    limits = httpx.Limits(max_connections=streams + 10, max_keepalive_connections=streams + 10)
    expected = tokens + 4  # role chunk, stop chunk, usage chunk, [DONE]
    async with httpx.AsyncClient(base_url=url, headers=HEADERS, timeout=120, limits=limits) as c:

        async def one() -> int:
            events, carry = 0, b""
            async with c.stream("POST", CHAT, json=_body(tokens)) as r:
                async for chunk in r.aiter_raw():
                    events += (carry + chunk).count(b"\n\n")
                    carry = chunk[-1:]
            return events

        start = time.perf_counter()
        results = await asyncio.gather(*(one() for _ in range(streams)), return_exceptions=True)
        elapsed = time.perf_counter() - start
    ok = [r for r in results if isinstance(r, int) and r == expected]
    return len(ok), sum(r for r in results if isinstance(r, int)), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=20000, help="tokens in the single stream")
    parser.add_argument("--streams", type=int, default=200, help="concurrent streams")
    parser.add_argument("--stream-tokens", type=int, default=2000, help="tokens per stream")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows: list[tuple[str, str, int, float]] = []
    with emulator_process() as url:
        single(url, 200, "raw")  # warm-up: imports, word-bank caches
        for mode, label in (
            ("raw", "1 consumer, raw bytes"),
            ("parse", "1 consumer, iter_lines+json"),
            ("unbatched", "1 consumer, unbatched writes"),
        ):
            runs = [single(url, args.tokens, mode) for _ in range(args.repeat)]
            events = runs[0][0]
            seconds = statistics.median(s for _, s in runs)
            rows.append((label, "1/1", events, seconds))
        ok, events, seconds = asyncio.run(concurrent(url, args.streams, args.stream_tokens))
        rows.append((f"{args.streams} concurrent streams", f"{ok}/{args.streams}", events, seconds))
    print(f"emulator stream throughput (python {sys.version.split()[0]}, uvicorn h11)")
    print(f"{'scenario':34} {'ok':>9} {'events':>9} {'seconds':>8} {'events/s':>10}")
    for label, ok_text, events, seconds in rows:
        print(f"{label:34} {ok_text:>9} {events:>9} {seconds:>8.2f} {events / seconds:>10,.0f}")


if __name__ == "__main__":
    main()
