"""What the browser tests share: Chromium's flags, a Jupyter server in demo mode, the waits."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

SHOTS = Path(__file__).resolve().parents[2] / "build" / "browser"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The closed network here refuses Chromium's background connections; these flags stop them.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Render every cell (no windowing), so outputs below the fold are in the DOM; no news popup.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": '{"windowingMode": "none"}',
    "@jupyterlab/apputils-extension/notification": '{"fetchNews": "false"}',
}

# Under load the indicator can read idle before the kernel has taken the queued cells (a demo
# emulator process starting, a slow kernel start): wait until every code cell has its number.
EVERY_CELL_RAN = """() => {
    const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
    return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
}"""


# Some code cell has started ([*]) or finished ([n]): the kernel took the run.
SOME_CELL_STARTED = """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
    .some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))"""


def run_all_cells(page: Any, attempts: int = 4) -> None:
    """Run > Run All Cells, again if the kernel took none of them: on a cold start (a fresh
    clone's first kernel) the indicator can read idle before the kernel is connected, and the
    run is then dropped without a word (every prompt stays `[ ]`)."""
    for attempt in range(attempts):
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        try:
            page.wait_for_function(SOME_CELL_STARTED, timeout=30_000)
            return
        except Exception:
            if attempt == attempts - 1:
                SHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SHOTS / "no-cell-started.png"), full_page=True)
                raise


def every_cell_ran(page: Any, timeout_ms: int = 180_000) -> None:
    try:
        page.wait_for_function(EVERY_CELL_RAN, timeout=timeout_ms)
    except Exception:
        SHOTS.mkdir(parents=True, exist_ok=True)  # what the page showed when it gave up
        page.screenshot(path=str(SHOTS / "not-every-cell-ran.png"), full_page=True)
        raise


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def jupyter_server(work: Path, root: Path) -> Iterator[tuple[str, str]]:
    """(base URL, token): a Jupyter server (JupyterLab and Notebook 7) on a free loopback port
    serving `root`, in demo mode with its home in `work`; stopped, with its demo emulator,
    at the end."""
    settings = work / "lab-settings"
    for plugin, values in LAB_SETTINGS.items():
        target = settings / f"{plugin}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(values)
    env = {
        **os.environ,
        "YJ_DEMO": "1",
        "YJ_HOME": str(work / "home"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        # Detached demo emulators (this home's, and those of lessons with a home of their own)
        # end soon after the test instead of idling for hours.
        "YJ_DEMO_IDLE_EXIT": "120",
    }
    env.pop("YJ_API_KEY", None)
    port, token = free_port(), secrets.token_hex(16)
    log_path = work / "server.log"
    log = log_path.open("w")
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
            "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
        ],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_server(url, token, proc, log_path)
        yield url, token
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        subprocess.run(
            [sys.executable, "-m", "yjnb._demo", "stop", str(work / "home")],
            env=env, capture_output=True, timeout=30,
        )  # fmt: skip


def _wait_for_server(url: str, token: str, proc: Any, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/status?token={token}", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"the Jupyter server exited: {log.read_text()[-2000:]}")
        time.sleep(0.5)
    raise RuntimeError("the Jupyter server did not start within 90 s")
