"""The tutorials in a real browser: JupyterLab on loopback, driven by Playwright in Chromium.

Run with `make browser-test` (it installs Debian's chromium if missing; Playwright uses it via
`executable_path`, no browser download). Screenshots go to `build/browser/`.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_helpers import every_cell_ran

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
SHOTS = ROOT / "build" / "browser"
# The first test pays for a cold start (JupyterLab's page, a kernel, the demo emulator process):
# more than pytest's default 120 s on a loaded 2-core machine.
pytestmark = pytest.mark.timeout(400)
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def lab() -> Iterator[str]:
    """JupyterLab on a free loopback port, in demo mode, on a scratch copy of the notebooks."""
    work = Path(tempfile.mkdtemp(prefix="yjnb-lab-"))
    shutil.copytree(NOTEBOOKS, work / "notebooks", ignore=shutil.ignore_patterns("media"))
    port, token = _free_port(), secrets.token_hex(16)
    settings = work / "lab-settings"
    # Render every cell (no windowing), so outputs below the fold are in the DOM; no news popup.
    for plugin, values in {
        "@jupyterlab/notebook-extension/tracker": '{"windowingMode": "none"}',
        "@jupyterlab/apputils-extension/notification": '{"fetchNews": "false"}',
    }.items():
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
    log = (work / "lab.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
            "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={work / 'notebooks'}",
        ],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/api/status?token={token}", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited: {(work / 'lab.log').read_text()[-2000:]}")
            time.sleep(0.5)
        else:
            raise RuntimeError("JupyterLab did not start within 90 s")
        yield f"{url}?token={token}"
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
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def open_and_run_all(browser: Any, lab: str, notebook: str) -> Any:
    base, query = lab.split("?")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{base}/lab/tree/{notebook}?{query}&reset")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
    # Clear stored outputs first, so what we check below was made in this browser run.
    page.locator(".lm-MenuBar-itemLabel", has_text="Edit").click()
    page.locator(".lm-Menu-itemLabel", has_text="Clear Outputs of All Cells").click()
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    page.wait_for_timeout(1000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
    every_cell_ran(page)
    return page


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def no_errors(page: Any) -> None:
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    texts = [errors.nth(i).inner_text() for i in range(errors.count())]
    assert not [t for t in texts if "Traceback" in t or "Error" in t], texts


def test_quickstart_streams_chat_text(browser: Any, lab: str) -> None:
    page = open_and_run_all(browser, lab, "01-quickstart.ipynb")
    shot(page, "01-quickstart")
    no_errors(page)
    # The cell after the chat prints `_yj.text[:40]`: the same words must be on screen, rendered.
    check = page.locator(".jp-CodeCell", has_text="print(_yj.text[:40])").first
    first_line = check.locator(".jp-OutputArea-output").first.inner_text().splitlines()[0]
    assert len(first_line) >= 20, first_line
    rendered = page.locator(".jp-RenderedMarkdown.jp-OutputArea-output")
    assert any(first_line in rendered.nth(i).inner_text() for i in range(rendered.count()))
    assert "demo mode" in page.locator(".jp-Notebook").inner_text()
    page.close()


def test_video_notebook_shows_a_playable_video(browser: Any, lab: str) -> None:
    page = open_and_run_all(browser, lab, "04-video.ipynb")
    page.wait_for_selector(".jp-OutputArea-output video", timeout=60_000)
    shot(page, "04-video")
    no_errors(page)
    video = page.locator(".jp-OutputArea-output video").first
    src = video.evaluate("v => v.currentSrc || v.src || v.querySelector('source')?.src")
    assert src, "the <video> element has a source"
    playable = video.evaluate(
        """v => new Promise(resolve => {
            if (v.readyState >= 1) return resolve(true);
            v.addEventListener('loadedmetadata', () => resolve(true), {once: true});
            v.addEventListener('error', () => resolve(false), {once: true});
            v.load();
            setTimeout(() => resolve(v.readyState >= 1), 15000);
        })"""
    )
    assert playable, f"the browser could not load {src}"
    page.close()


def test_video_form_renders_and_submits(browser: Any, lab: str) -> None:
    page = open_and_run_all(browser, lab, "05-forms.ipynb")
    # The first cell whose output holds a form: the one `%yj_video` with no prompt made.
    cell = page.locator(".jp-CodeCell", has=page.locator(".jp-OutputArea-output textarea")).first
    cell.wait_for(timeout=60_000)
    no_errors(page)
    assert cell.locator("button", has_text="Submit").count() == 1
    assert cell.locator("select").count() >= 2  # catelog, model, and the model's choices
    shot(page, "05-forms-before")
    cell.locator("textarea").first.fill("a paper boat on a lake")
    cell.locator("button", has_text="Submit").click()
    # The live card under this form turns into the finished video.
    cell.locator("video").first.wait_for(timeout=90_000)
    # The card's status badge says the ledger's word for a finished task.
    cell.locator(".yjnb-task span", has_text=re.compile(r"^ok$")).first.wait_for(timeout=30_000)
    text = cell.inner_text()
    assert "a paper boat on a lake" in text, text
    shot(page, "05-forms-after")
    page.close()
