"""The emulator in a process of its own, for benchmarks that measure the client's CPU alone."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx


@contextmanager
def emulator_process(speed: float | None = None, *options: str) -> Iterator[str]:
    """``python -m yjnb.emulator --port 0 [--speed S] [options]`` on a free loopback port;
    yields its URL."""
    command = [sys.executable, "-m", "yjnb.emulator", "--port", "0"]
    if speed is not None:
        command += ["--speed", str(speed)]
    command += options
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        match = re.search(r"http://127\.0\.0\.1:\d+", proc.stdout.readline())
        if match is None:
            raise RuntimeError("the emulator did not print its URL")
        url = match.group(0)
        for _ in range(200):  # at most ~10 s
            try:
                httpx.get(url + "/_emulator/stats", timeout=1.0)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f"the emulator at {url} did not answer")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
