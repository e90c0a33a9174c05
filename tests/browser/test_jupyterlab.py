"""The tutorials in a real browser: JupyterLab on loopback, driven by Playwright in Chromium.

Run with `make browser-test` (it installs Debian's chromium if missing; Playwright uses it via
`executable_path`, no browser download). Screenshots go to `build/browser/`.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import every_cell_ran, jupyter_server, run_all_cells

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
SHOTS = ROOT / "build" / "browser"
# The first test pays for a cold start (JupyterLab's page, a kernel, the demo emulator process):
# more than pytest's default 120 s on a loaded 2-core machine.
pytestmark = pytest.mark.timeout(400)


@pytest.fixture(scope="module")
def lab() -> Iterator[str]:
    """JupyterLab on a free loopback port, in demo mode, on a scratch copy of the notebooks."""
    work = Path(tempfile.mkdtemp(prefix="yjnb-lab-"))
    shutil.copytree(NOTEBOOKS, work / "notebooks", ignore=shutil.ignore_patterns("media"))
    try:
        with jupyter_server(work, work / "notebooks") as (url, token):
            yield f"{url}?token={token}"
    finally:
        shutil.rmtree(work, ignore_errors=True)


def open_and_run_all(browser: Any, lab: str, notebook: str) -> Any:
    base, query = lab.split("?")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{base}/lab/tree/{notebook}?{query}&reset")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
    # Clear stored outputs first, so what we check below was made in this browser run.
    page.locator(".lm-MenuBar-itemLabel", has_text="Edit").click()
    page.locator(".lm-Menu-itemLabel", has_text="Clear Outputs of All Cells").click()
    run_all_cells(page)
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
