"""Issue 14: a demo video started in the background, a kernel restart, then `%yj_tasks
--resume` finishes the task: the demo emulator is its own process, shared through YJ_HOME,
so the task the new kernel asks about is still there (before: 404 from a new emulator)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from yjnb._demo import read_state

START = """
%load_ext yjnb
%yj_video --bg -o t a cat on the moon
import yjnb.ledger
yjnb.ledger.flush()  # the row exists the moment the task id does; written before the kill
print("TASK", t.taskid)
"""

RESUME = """
%load_ext yjnb
%yj_tasks --resume
import json, yjnb
session = get_ipython().magics_manager.registry["YJMagics"].session
done = [w.result(timeout=90) for w in list(session.watchers.values())]
rows = yjnb.usage(demo=True)
print("RESULT", json.dumps({
    "resumed": [t.taskid for t in done],
    "succeeded": [t.succeeded for t in done],
    "ledger": dict(zip(rows["taskid"], rows["status"])),
    "real_rows": len(yjnb.usage()),
}))
"""


def _run(kc: Any, cell: str) -> str:
    outputs: list[str] = []

    def collect(msg: dict[str, Any]) -> None:
        if msg["msg_type"] == "stream":
            outputs.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            outputs.append(f"ERROR {msg['content']['ename']}: {msg['content']['evalue']}")

    reply = kc.execute_interactive(cell, timeout=110, output_hook=collect)
    text = "".join(outputs)
    assert reply["content"]["status"] == "ok", text
    return text


def _line(text: str, tag: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(tag)).split(" ", 1)[1]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_kernel_restart_in_demo_mode_then_resume_finishes_the_task(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jupyter_client.manager import start_new_kernel

    monkeypatch.setenv("YJ_DEMO", "1")
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        taskid = _line(_run(kc, START), "TASK")
        before = read_state(isolated_env)
        assert before is not None
        kc.stop_channels()
        km.restart_kernel(now=True)  # killed, as a crashed or restarted kernel is
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        result = json.loads(_line(_run(kc, RESUME), "RESULT"))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert result["resumed"] == [taskid] and result["succeeded"] == [True]
    assert result["ledger"] == {taskid: "ok"}  # recorded as demo, finished in place
    assert result["real_rows"] == 0
    assert read_state(isolated_env) == before  # the same emulator served both kernels
