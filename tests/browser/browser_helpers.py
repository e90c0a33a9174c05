"""What the browser tests share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SHOTS = Path(__file__).resolve().parents[2] / "build" / "browser"

# Under load the indicator can read idle before the kernel has taken the queued cells (a demo
# emulator process starting, a slow kernel start): wait until every code cell has its number.
EVERY_CELL_RAN = """() => {
    const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
    return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
}"""


def every_cell_ran(page: Any, timeout_ms: int = 180_000) -> None:
    try:
        page.wait_for_function(EVERY_CELL_RAN, timeout=timeout_ms)
    except Exception:
        SHOTS.mkdir(parents=True, exist_ok=True)  # what the page showed when it gave up
        page.screenshot(path=str(SHOTS / "not-every-cell-ran.png"), full_page=True)
        raise
