"""``--state-file`` and ``--idle-exit``: what demo mode starts the emulator with."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx


def test_state_file_then_idle_exit_removes_it(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    command = [sys.executable, "-m", "yjnb.emulator", "--port", "0", "--state-file", str(state)]
    proc = subprocess.Popen([*command, "--idle-exit", "1.5"], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not state.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        written = json.loads(state.read_text())
        assert written["pid"] == proc.pid and written["url"].endswith(f":{written['port']}")
        # Requests keep it alive past the idle time.
        for _ in range(4):
            assert httpx.get(f"{written['url']}/_emulator/stats", timeout=10).status_code == 200
            time.sleep(0.6)
        assert proc.poll() is None
        assert proc.wait(timeout=30) == 0  # then idle: it ends, cleanly
        assert not state.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_bad_idle_exit_is_refused() -> None:
    command = [sys.executable, "-m", "yjnb.emulator", "--idle-exit", "nan"]
    shown = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 2 and "--idle-exit must be a number of seconds" in shown.stderr
