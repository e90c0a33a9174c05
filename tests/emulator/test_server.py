"""``serve()``/``Emulator`` controls, admin endpoints and ``python -m yjnb.emulator``."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import httpx
import pytest

from yjnb.emulator import DEMO_KEY, Emulator, serve


def test_serve_binds_loopback_and_shuts_down() -> None:
    with serve(port=0, keys={"yj-a": 5.0, "yj-b": 0.0}) as emu:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", emu.url)
        assert emu.api_key == DEMO_KEY == "yj-demo-0000000000000000"
        models = emu.url + "/llmage/v1/models"
        assert httpx.get(models, headers={"Authorization": "Bearer yj-a"}).status_code == 200
        r = httpx.get(models, headers={"Authorization": f"Bearer {DEMO_KEY}"})
        assert r.status_code == 401  # only the keys given exist
        assert emu.balance("yj-a") == 5.0
        url = emu.url
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/llmage/v1/models")


def test_counts_and_reset(emu: Emulator, client: httpx.Client) -> None:
    client.get("/llmage/v1/models")
    client.get("/llmage/v1/models", params={"catelogid": "t2v"})
    client.get("/llmage/v1/tasks", params={"taskid": "1"})
    assert emu.count("GET /llmage/v1/models") == 2
    assert emu.counts == {"GET /llmage/v1/models": 2, "GET /llmage/v1/tasks": 1}
    assert emu.count("POST /llmage/v1/video/generations") == 0
    emu.set_balance(DEMO_KEY, 3.0)
    emu.set_faults(status=503)
    emu.reset()
    assert emu.counts == {} and emu.balance(DEMO_KEY) == 1_000_000.0
    assert client.get("/llmage/v1/models").status_code == 200


def test_add_key_and_balances(emu: Emulator) -> None:
    emu.add_key("yj-new", 42.0)
    headers = {"Authorization": "Bearer yj-new"}
    assert httpx.get(emu.url + "/llmage/v1/models", headers=headers).status_code == 200
    assert emu.balance("yj-new") == 42.0
    assert emu.balance("yj-unknown") == 0.0
    emu.reset()
    assert httpx.get(emu.url + "/llmage/v1/models", headers=headers).status_code == 401


def test_admin_stats_and_reset(emu: Emulator, client: httpx.Client) -> None:
    client.get("/llmage/v1/models")
    stats = httpx.get(emu.url + "/_emulator/stats").json()
    assert stats["counts"] == {"GET /llmage/v1/models": 1}  # admin calls are not counted
    assert stats["balances"] == {DEMO_KEY: 1_000_000.0}
    assert stats["faults"] is None and stats["tasks"] == 0
    assert httpx.post(emu.url + "/_emulator/reset").json() == {"reset": True}
    assert emu.counts == {}


def test_set_speed_validates(emu: Emulator) -> None:
    with pytest.raises(ValueError):
        emu.set_speed(0)
    emu.set_speed(2.0)
    assert httpx.get(emu.url + "/_emulator/stats").json()["speed"] == 2.0


def test_command_line_runs_in_the_foreground() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "yjnb.emulator", "--port", "0", "--speed", "10"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+", first)
        assert match, first
        assert DEMO_KEY in proc.stdout.readline()
        headers = {"Authorization": f"Bearer {DEMO_KEY}"}
        for _ in range(100):  # the socket listens once uvicorn's loop has started
            try:
                r = httpx.get(match.group(0) + "/llmage/v1/models", headers=headers)
                break
            except httpx.ConnectError:
                import time

                time.sleep(0.05)
        assert r.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_listening_socket_is_tcp_so_responses_are_not_delayed_by_nagle() -> None:
    """asyncio sets TCP_NODELAY on accepted sockets only when their proto is IPPROTO_TCP;
    without it each keep-alive response waited ~40 ms for a delayed ACK."""
    import socket

    from yjnb.emulator.server import bind

    sock = bind(0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()


def test_a_chat_that_ends_after_a_reset_does_not_charge(emu: Emulator) -> None:
    """A request from before reset() (a test's stream still finishing) must not touch the
    balances that reset() restored."""
    headers = {"Authorization": f"Bearer {DEMO_KEY}", "X-Emulator-Fault": "chunk_delay=0.02"}
    body = {"model": "qwen3-max", "prompt": "hello", "stream": True, "max_tokens": 20}
    with httpx.stream(
        "POST", emu.url + "/llmage/v1/chat/completions", json=body, headers=headers
    ) as response:
        lines = response.iter_lines()
        next(lines)  # the stream has begun
        emu.reset()
        for _ in lines:
            pass  # ... and ends after the reset
    assert emu.balance(DEMO_KEY) == 1_000_000.0
    with httpx.stream(
        "POST", emu.url + "/llmage/v1/chat/completions", json=body, headers=headers
    ) as response:
        for _ in response.iter_lines():
            pass
    assert emu.balance(DEMO_KEY) < 1_000_000.0  # without a reset the same call is charged


def test_a_chat_is_charged_before_its_answer_ends(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client reading the balance once its streamed answer has ended sees the charge, even
    when the server is slow to get to it (a loaded machine: here, a charge that takes 0.3 s)."""
    from yjnb.emulator.state import State

    charge = State.charge

    def slow_charge(self: State, key: str, credits: float, epoch: int) -> None:
        time.sleep(0.3)  # the server's thread descheduled
        charge(self, key, credits, epoch)

    monkeypatch.setattr(State, "charge", slow_charge)
    headers = {"Authorization": f"Bearer {DEMO_KEY}", "X-Emulator-Fault": "chunk_delay=0.01"}
    body = {"model": "qwen3-max", "prompt": "hello", "stream": True, "max_tokens": 5}
    with httpx.stream(
        "POST", emu.url + "/llmage/v1/chat/completions", json=body, headers=headers
    ) as response:
        for _ in response.iter_lines():
            pass
    assert emu.balance(DEMO_KEY) < 1_000_000.0
