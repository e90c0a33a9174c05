"""``--api-key``/``--balance``/``--rpm``/``--tpm`` on the command line and in ``serve()``."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from yjnb.emulator import DEMO_KEY, serve
from yjnb.emulator.state import DEFAULT_CREDITS, initial_keys

from .helpers import CHAT


@contextmanager
def emulator_process(*options: str, lines: int = 3) -> Iterator[tuple[str, list[str]]]:
    """``python -m yjnb.emulator --port 0 OPTIONS``: (its URL, the first ``lines`` it printed)."""
    command = [sys.executable, "-m", "yjnb.emulator", "--port", "0", *options]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        printed = [proc.stdout.readline() for _ in range(lines)]
        match = re.search(r"http://127\.0\.0\.1:\d+", printed[0])
        assert match, printed
        url = match.group(0)
        for _ in range(200):  # the socket listens once uvicorn's loop has started
            try:
                httpx.get(url + "/_emulator/stats")
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        yield url, printed
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_command_line_key_balance_and_rpm() -> None:
    options = ("--api-key", "yj-cli-key", "--balance", "12.5", "--rpm", "2")
    with emulator_process(*options, lines=5) as (url, lines):
        assert "api key: yj-cli-key" in lines[1]
        assert "YJ_API_KEY=yj-cli-key" in lines[2]
        assert lines[3:] == ["balance: 12.5 credits\n", "quota per key: 2 rpm\n"]
        models = url + "/llmage/v1/models"
        assert httpx.get(models, headers={"Authorization": f"Bearer {DEMO_KEY}"}).status_code == 401
        assert httpx.get(models).status_code == 401
        stats = httpx.get(url + "/_emulator/stats").json()
        assert stats["balances"] == {"yj-cli-key": 12.5}
        assert stats["limits"] == {"rpm": 2, "tpm": None}
        auth = {"Authorization": "Bearer yj-cli-key"}
        codes = [httpx.get(models, headers=auth).status_code for _ in range(3)]
        assert codes == [200, 200, 429]


def test_command_line_balance_is_what_chats_spend() -> None:
    with emulator_process("--balance", "0", lines=4) as (url, lines):
        assert lines[1] == f"demo key: {DEMO_KEY}\n"  # the key stays the demo key
        assert lines[3] == "balance: 0 credits\n"
        auth = {"Authorization": f"Bearer {DEMO_KEY}"}
        r = httpx.post(url + CHAT, json={"model": "qwen3-max", "prompt": "hi"}, headers=auth)
        assert r.status_code == 429 and r.json() == {"error": "Insufficient balance"}
        assert httpx.get(url + "/_emulator/stats").json()["balances"] == {DEMO_KEY: 0.0}


@pytest.mark.parametrize(
    "options",
    [["--rpm", "0"], ["--tpm", "-3"], ["--api-key", ""], ["--balance", "nan"], ["--rpm", "x"]],
)
def test_command_line_rejects_bad_options(options: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "yjnb.emulator", "--port", "0", *options],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stdout  # argparse's usage error, before any socket
    assert "error:" in proc.stderr


def test_serve_with_a_key_a_balance_and_quotas() -> None:
    with serve(speed=1.0, api_key="yj-own", balance=3.0, rpm=1, tpm=1000) as emu:
        assert emu.api_key == "yj-own"
        assert emu.balance("yj-own") == 3.0 and emu.balance(DEMO_KEY) == 0.0
        models = emu.url + "/llmage/v1/models"
        demo = httpx.get(models, headers={"Authorization": f"Bearer {DEMO_KEY}"})
        assert demo.status_code == 401
        auth = {"Authorization": "Bearer yj-own"}
        first = httpx.get(models, headers=auth)
        assert first.headers["x-ratelimit-limit-tokens"] == "1000"
        assert httpx.get(models, headers=auth).status_code == 429
        emu.reset()  # back to the starting key, balance and quotas, with a fresh window
        assert emu.limits.rpm == 1 and emu.balance("yj-own") == 3.0
        assert httpx.get(models, headers=auth).status_code == 200


def test_serve_defaults_are_unchanged() -> None:
    with serve() as emu:
        assert emu.api_key == DEMO_KEY
        assert emu.balance(DEMO_KEY) == DEFAULT_CREDITS == 1_000_000.0
        assert emu.limits.rpm is None and emu.limits.tpm is None


def test_initial_keys() -> None:
    assert initial_keys() == {DEMO_KEY: DEFAULT_CREDITS}
    assert initial_keys(api_key="k", balance=2) == {"k": 2.0}
    assert initial_keys(balance=0) == {DEMO_KEY: 0.0}
    assert initial_keys({"a": 1.0}) == {"a": 1.0}  # keys= alone: no demo key added
    assert initial_keys({"a": 1.0}, api_key="k") == {"a": 1.0, "k": DEFAULT_CREDITS}
    assert initial_keys({"k": 7.0}, api_key="k") == {"k": 7.0}
    for api_key in ("has space", ""):
        with pytest.raises(ValueError):
            initial_keys(api_key=api_key)
    with pytest.raises(ValueError):
        initial_keys(balance=float("inf"))
    with pytest.raises(ValueError):
        initial_keys({"a": 1.0}, balance=5)  # whose balance?
