"""A saved notebook keeps its media: made in JupyterLab, reopened in JupyterLab and Notebook 7.

A notebook with a chat, an image, a video and a form runs in demo mode in a real JupyterLab;
the form is submitted by clicking its button. The notebook is saved and its kernel stopped.
Then fresh pages of JupyterLab and of Notebook 7 open the file: every image must display
(`naturalWidth > 0`) and every video must load its source (no `MediaError`, `readyState >= 1`),
the form's result included. Screenshots go to `build/browser/`. Run with `make browser-test`.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import nbformat
import pytest
from browser_helpers import every_cell_ran, jupyter_server, run_all_cells

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "browser"
NOTEBOOK = "saved.ipynb"
CELLS = [
    "%load_ext yjnb",
    "%%yj_chat\necho: hello from the saved notebook",
    "%yj_image -o apple a red apple on a table",
    "%yj_video -o moon duration=2 resolution=540p a cat walking on the moon",
    "%yj_video -m viduq3-pro duration=2 resolution=540p",  # no prompt: the form
]
# Every <img> and <video> in the outputs: how each one loaded (the video's metadata at least).
MEDIA_STATE_JS = """async () => {
  const outputs = '.jp-OutputArea-output';
  const images = [...document.querySelectorAll(`${outputs} img`)];
  const videos = [...document.querySelectorAll(`${outputs} video`)];
  const image = img => new Promise(resolve => {
    const done = () => resolve({src: img.src.slice(0, 60), width: img.naturalWidth});
    if (img.complete) return done();
    img.addEventListener('load', done, {once: true});
    img.addEventListener('error', done, {once: true});
    setTimeout(done, 15000);
  });
  const video = v => new Promise(resolve => {
    const done = () => resolve({
      src: v.currentSrc || v.src, ready: v.readyState, error: v.error ? v.error.code : null,
      width: v.getBoundingClientRect().width,
    });
    if (v.readyState >= 1 || v.error) return done();
    v.addEventListener('loadedmetadata', done, {once: true});
    v.addEventListener('error', done, {once: true});
    setTimeout(done, 15000);
  });
  return {images: await Promise.all(images.map(image)),
          videos: await Promise.all(videos.map(video)),
          text: [...document.querySelectorAll(outputs)].map(o => o.innerText).join(' | ')};
}"""


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, str, Path]]:
    """(base URL, token, folder): one Jupyter server with JupyterLab and Notebook 7."""
    work = Path(tempfile.mkdtemp(prefix="yjnb-saved-"))
    folder = work / "nb"
    folder.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nbformat.write(nb, folder / NOTEBOOK)
    try:
        with jupyter_server(work, folder) as (url, token):
            yield url, token, folder
    finally:
        shutil.rmtree(work, ignore_errors=True)


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _menu(page: Any, menu: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=menu).click()
    page.locator(".lm-Menu-itemLabel", has_text=item).first.click()


def _answer_kernel_dialog(page: Any, answer: str, wait_ms: int) -> None:
    """JupyterLab may ask "Select Kernel" some seconds after opening: answer if it does."""
    button = page.locator(".jp-Dialog button", has_text=answer)
    try:
        button.wait_for(timeout=wait_ms)
    except Exception:  # not asked: the notebook's kernelspec (or the session) was enough
        return
    button.click()


def _saved_outputs(folder: Path) -> list[list[dict[str, Any]]]:
    nb = json.loads((folder / NOTEBOOK).read_text(encoding="utf-8"))
    return [cell.get("outputs", []) for cell in nb["cells"]]


def _make_and_save(browser: Any, url: str, token: str, folder: Path) -> None:
    """Run every cell in JupyterLab, click the form's Submit, save, stop the kernel."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/lab/tree/{NOTEBOOK}?token={token}&reset")
    _answer_kernel_dialog(page, "Select", 20_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)
    run_all_cells(page)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
    every_cell_ran(page)
    shot(page, "saved-0-ran")
    form = page.locator(".jp-CodeCell", has=page.locator("button", has_text="Submit")).first
    form.locator("textarea").first.fill("a paper boat on a lake")
    form.locator("button", has_text="Submit").click()
    # The result is an ordinary output of the form's cell, outside the widget.
    form.locator(".jp-OutputArea-output video").first.wait_for(timeout=90_000)
    # The card's status badge says the ledger's word for a finished task.
    form.locator(".yjnb-task span", has_text=re.compile(r"^ok$")).first.wait_for(timeout=90_000)
    assert "Error displaying widget" not in page.locator(".jp-Notebook").inner_text()
    shot(page, "saved-1-made-in-jupyterlab")
    page.locator(".lm-MenuBar-itemLabel", has_text="File").click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Save( Notebook)?$")).first.click()
    deadline = time.monotonic() + 30
    while True:
        try:
            if "a paper boat on a lake" in json.dumps(_saved_outputs(folder)[-1]):
                break
        except json.JSONDecodeError:  # read while the server writes it
            pass
        assert time.monotonic() < deadline, "the form's result was not saved within 30 s"
        time.sleep(0.5)
    page.close()
    sessions = httpx.get(f"{url}/api/sessions?token={token}").json()
    for s in sessions:
        httpx.delete(f"{url}/api/sessions/{s['id']}?token={token}").raise_for_status()
    assert httpx.get(f"{url}/api/kernels?token={token}").json() == []


def _check_reopened(browser: Any, address: str, name: str) -> dict[str, Any]:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(address)
    page.wait_for_selector(".jp-OutputArea-output video", timeout=60_000)
    _answer_kernel_dialog(page, "No Kernel", 10_000)
    page.wait_for_timeout(1000)
    for cell in page.locator(".jp-CodeCell").all():
        cell.scroll_into_view_if_needed()
    state: dict[str, Any] = page.evaluate(MEDIA_STATE_JS)
    shot(page, name)
    page.close()
    return state


def _assert_media_shown(state: dict[str, Any]) -> None:
    images, videos = state["images"], state["videos"]
    assert len(images) >= 1 and all(i["width"] > 0 for i in images), images
    # The magic's video and the form's, each from its file beside the notebook.
    assert len(videos) >= 2, videos
    for v in videos:
        assert v["error"] is None and v["ready"] >= 1, v
        assert "/files/media/" in v["src"] and v["width"] >= 300, v
    assert "a paper boat on a lake" in state["text"]  # the form's result survived
    assert "hello from the saved notebook" in state["text"]  # the chat's answer


@pytest.mark.timeout(600)
def test_a_saved_notebook_shows_its_media_in_jupyterlab_and_notebook_7(
    browser: Any, server: tuple[str, str, Path]
) -> None:
    url, token, folder = server
    _make_and_save(browser, url, token, folder)
    saved = _saved_outputs(folder)
    kinds = [sorted({k for o in outputs for k in o.get("data", {})}) for outputs in saved]
    assert "image/png" in kinds[2], kinds  # the image embedded beside its card
    assert "text/html" in kinds[4] and "video" in json.dumps(saved[4])  # the form's result
    lab = _check_reopened(browser, f"{url}/lab/tree/{NOTEBOOK}?token={token}&reset", "saved-2-lab")
    _assert_media_shown(lab)
    nb7 = _check_reopened(browser, f"{url}/notebooks/{NOTEBOOK}?token={token}", "saved-3-nb7")
    _assert_media_shown(nb7)
