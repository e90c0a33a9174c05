"""Demo mode's emulator: one detached process per YJ_HOME, found again through its state file,
shared by separate processes, outliving the one that started it, replaced when it dies."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

import yjnb
from yjnb._demo import LOG_FILE, STATE_FILE, demo_emulator, read_state, stop_demo

# What a second kernel does: ask for the demo endpoint, say what it got, and end.
PROBE = """
import json, os, sys
from yjnb._demo import demo_emulator
e = demo_emulator(sys.argv[1])
print(json.dumps({"url": e.url, "pid": e.pid, "me": os.getpid()}))
"""


def _probe(home: Path, n: int) -> list[dict[str, object]]:
    """Run `n` separate Python processes at once, each asking for `home`'s emulator."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", PROBE, str(home)], stdout=subprocess.PIPE, env=env, text=True
        )
        for _ in range(n)
    ]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    return [json.loads(out) for out in outs]


def _emulators_for(state_file: Path) -> list[int]:
    """The pids of every running emulator started for this state file (from /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            status = (entry / "status").read_text()
        except OSError:
            continue
        zombie = "State:\tZ" in status
        if b"yjnb.emulator" in cmdline and os.fsencode(state_file) in cmdline and not zombie:
            pids.append(int(entry.name))
    return pids


def _gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists() or "State:\tZ" in Path(
            f"/proc/{pid}/status"
        ).read_text(errors="replace"):
            return True
        time.sleep(0.05)
    return False


def test_processes_with_one_home_share_one_emulator_that_outlives_them(
    isolated_env: Path,
) -> None:
    first = _probe(isolated_env, 3)  # three "kernels" starting at once: the lock lets one start
    assert len({p["pid"] for p in first}) == 1 and len({p["url"] for p in first}) == 1
    pid = first[0]["pid"]
    assert pid not in {p["me"] for p in first}  # its own process, not a thread of a kernel
    assert _emulators_for(isolated_env / STATE_FILE) == [pid]
    # Every process that started it has ended; it still answers, to the next one too.
    (again,) = _probe(isolated_env, 1)
    assert again["pid"] == pid
    state = json.loads((isolated_env / STATE_FILE).read_text())
    assert {"pid", "port", "url", "api_key"} <= set(state) and state["pid"] == pid
    assert (isolated_env / LOG_FILE).exists()
    found = read_state(isolated_env)
    assert found is not None
    answer = httpx.get(
        f"{found.url}/llmage/v1/models", headers={"Authorization": f"Bearer {found.api_key}"}
    )
    assert answer.status_code == 200


def test_a_killed_emulator_is_replaced(isolated_env: Path) -> None:
    old = demo_emulator(isolated_env)
    os.kill(old.pid, signal.SIGKILL)
    assert _gone(old.pid)
    assert read_state(isolated_env) == old  # killed: it could not remove its state file
    new = demo_emulator(isolated_env)
    assert new.pid != old.pid and _emulators_for(isolated_env / STATE_FILE) == [new.pid]
    assert httpx.get(f"{new.url}/_emulator/stats").status_code == 200


def test_a_client_in_demo_mode_uses_the_shared_emulator(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YJ_DEMO", "1")
    with yjnb.Client() as client:
        found = read_state(isolated_env)
        assert found is not None and client.base_url == found.url
        assert client.chat("echo: shared").text == "shared"
    (other,) = _probe(isolated_env, 1)
    assert other["pid"] == found.pid


def test_stop_demo_ends_it_and_removes_the_state_file(isolated_env: Path) -> None:
    assert stop_demo(isolated_env) is False  # none running
    found = demo_emulator(isolated_env)
    assert stop_demo(isolated_env) is True
    assert _gone(found.pid) and not (isolated_env / STATE_FILE).exists()


def test_a_missing_dependency_is_one_clear_line(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "uvicorn" else real(name, *a)
    )
    with pytest.raises(yjnb.ConfigError, match=r"uvicorn is missing\): pip install 'yjnb\[demo\]'"):
        demo_emulator(isolated_env)
    assert not (isolated_env / STATE_FILE).exists()


def test_a_state_file_pointing_off_the_machine_is_not_followed(isolated_env: Path) -> None:
    isolated_env.mkdir(parents=True, exist_ok=True)
    state = {"pid": os.getpid(), "port": 443, "url": "https://evil.example", "api_key": "k"}
    (isolated_env / STATE_FILE).write_text(json.dumps(state))
    assert read_state(isolated_env) is None
    found = demo_emulator(isolated_env)  # a real one is started instead
    assert found.url.startswith("http://127.0.0.1:") and found.pid != os.getpid()


def test_the_idle_time_comes_from_yj_demo_idle_exit(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YJ_DEMO_IDLE_EXIT", "soon")
    with pytest.raises(yjnb.ConfigError, match=r"YJ_DEMO_IDLE_EXIT='soon' is not a number"):
        demo_emulator(isolated_env)
    monkeypatch.setenv("YJ_DEMO_IDLE_EXIT", "123")
    found = demo_emulator(isolated_env)
    cmdline = Path(f"/proc/{found.pid}/cmdline").read_bytes().split(b"\0")
    assert cmdline[cmdline.index(b"--idle-exit") + 1] == b"123.0"
