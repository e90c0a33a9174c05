"""%yj_tasks: lost tasks (never polled again), --forget and --forget-lost, the status words."""

from __future__ import annotations

from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

if __package__:  # tests/notebook as a package or as a rootdir-inserted folder
    from ..media_helpers import last_html, watcher_of
else:
    from media_helpers import last_html, watcher_of

from yjnb.ledger import default_ledger

POLL = "GET /llmage/v1/tasks"


def _row(taskid: str) -> dict[str, Any]:
    return next(r for r in default_ledger().tasks() if r["taskid"] == taskid)


def _orphan(ip: Any, magics: Any, emulator: Any) -> str:
    """A video whose kernel stopped following it, on a platform that then forgot it (a demo
    emulator replaced, another server): its row is `pending`, the service answers 404."""
    emulator.set_speed(1.0)
    ip.run_line_magic("yj_video", "--bg -o t a cat")
    taskid = str(ip.user_ns["t"].taskid)
    watcher_of(magics, ip.user_ns["t"]).cancel()
    emulator.reset()  # every task forgotten; the request counts start again from zero
    return taskid


def test_a_task_the_service_does_not_know_becomes_lost_and_is_never_polled_again(
    ip: Any, magics: Any, emulator: Any
) -> None:
    taskid = _orphan(ip, magics, emulator)
    assert _row(taskid)["status"] == "pending"
    with capture_output() as captured:
        ip.run_line_magic("yj_tasks", "--resume")
        watcher = magics.session.watchers[taskid]
        watcher.result(timeout=30)
    assert "following 1 unfinished task" in captured.stdout
    assert watcher.card.outcome == "lost" and emulator.count(POLL) >= 1
    html = last_html(captured)
    assert ">lost</span>" in html and f"%yj_tasks --forget {taskid}" in html
    row = _row(taskid)
    assert row["status"] == "lost" and "Task not found" in row["error"]

    polls = emulator.count(POLL)
    with capture_output() as captured:
        ip.run_line_magic("yj_tasks", "--resume")
    assert "no unfinished tasks" in captured.stdout
    assert emulator.count(POLL) == polls  # 0 requests for the lost task

    with capture_output() as captured:
        ip.run_line_magic("yj_tasks", "")
    html = last_html(captured)
    assert "<td style='text-align:left'>lost</td>" in html and "--forget-lost" in html


def test_forget_hides_a_task_from_the_list_and_resume_but_keeps_its_row(
    ip: Any, magics: Any, emulator: Any
) -> None:
    emulator.set_speed(1.0)  # nothing finishes during the test
    ip.run_line_magic("yj_video", "--bg -o t a cat")
    taskid = str(ip.user_ns["t"].taskid)
    watcher = watcher_of(magics, ip.user_ns["t"])
    with capture_output() as captured:
        ip.run_line_magic("yj_tasks", f"--forget {taskid}")
    assert f"forgot task {taskid}" in captured.stdout
    assert watcher.future.cancelled() and taskid not in magics.session.watchers
    polls = emulator.count(POLL)

    with capture_output() as captured:
        ip.run_line_magic("yj_tasks", "--resume")
    assert "no unfinished tasks" in captured.stdout and emulator.count(POLL) == polls
    with capture_output() as captured:
        ip.run_line_magic("yj_tasks", "")
    assert taskid not in last_html(captured)
    with capture_output() as captured:
        ip.run_line_magic("yj_tasks", "--all")
    assert taskid in last_html(captured) and "pending (forgotten)" in last_html(captured)
    row = _row(taskid)  # the row stays, with what it knew: nothing paid for is deleted
    assert row["status"] == "pending" and row["forgotten_at"] is not None
    assert row["prompt"] == "a cat"

    with pytest.raises(UsageError, match="forgotten already"):
        ip.run_line_magic("yj_tasks", f"--forget {taskid}")
    with pytest.raises(UsageError, match="the ledger has no such task"):
        ip.run_line_magic("yj_tasks", "--forget nope")
    with pytest.raises(UsageError, match="go alone"):
        ip.run_line_magic("yj_tasks", f"--forget {taskid} --resume")


def test_forget_lost_forgets_only_lost_tasks(ip: Any, magics: Any, emulator: Any) -> None:
    lost = _orphan(ip, magics, emulator)
    with capture_output():
        ip.run_line_magic("yj_tasks", "--resume")
        magics.session.watchers[lost].result(timeout=30)
    ip.run_line_magic("yj_image", "-o i a pear")  # ok: not lost, stays listed
    with capture_output() as captured:
        ip.run_line_magic("yj_tasks", "--forget-lost")
    assert "forgot 1 lost task" in captured.stdout
    with capture_output() as captured:
        ip.run_line_magic("yj_tasks", "")
    html = last_html(captured)
    assert lost not in html and ip.user_ns["i"].taskid in html
    assert _row(lost)["status"] == "lost"


def test_a_lost_task_asked_for_by_id_is_looked_up_again(
    ip: Any, magics: Any, emulator: Any
) -> None:
    taskid = _orphan(ip, magics, emulator)
    with capture_output():
        ip.run_line_magic("yj_tasks", "--resume")
        magics.session.watchers[taskid].result(timeout=30)
    polls = emulator.count(POLL)
    with pytest.raises(UsageError, match=r"TaskLost: .*not known to this service"):
        ip.run_line_magic("yj_tasks", taskid)
    assert emulator.count(POLL) == polls + 1  # asked for by id: one request, on purpose


def test_forget_is_in_the_help(ip: Any) -> None:
    with capture_output() as captured:
        ip.run_line_magic("yj_tasks", "--help")
    assert "--forget TASKID" in captured.stdout and "--forget-lost" in captured.stdout
