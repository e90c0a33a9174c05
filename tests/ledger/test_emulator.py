"""Every kind of row, from real calls to the emulator through `yjnb.Client`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import yjnb
from yjnb.ledger import Ledger

FAULT = "X-Emulator-Fault"
WRONG_KEY = "sk-wrong-0123456789abcdef0123"


def file_bytes(ledger: Ledger) -> bytes:
    """The database and its WAL and shared-memory files, as they are on disk right now."""
    return b"".join(p.read_bytes() for p in sorted(ledger.path.parent.glob("ledger.sqlite*")))


def test_every_kind_of_row(
    emulator: Any, client_kwargs: dict[str, Any], ledger: Ledger, isolated_env: Path
) -> None:
    client = yjnb.Client(**client_kwargs)
    answer = client.chat("你是谁", model="qwen3-max", system="answer briefly")
    streamed = client.chat("tell me about the moon", stream=True)
    list(streamed)
    broken = yjnb.Client(**client_kwargs, headers={FAULT: "drop_after=3"}, stream_retries=0)
    with pytest.raises(yjnb.StreamInterrupted) as dropped:
        list(broken.chat("tell me a long story", stream=True))
    with pytest.raises(yjnb.AuthenticationError):
        yjnb.Client(api_key=WRONG_KEY, base_url=emulator.url).chat("hello")
    image = client.image("一只猫坐在月亮上", model="wan2.2-t2i-flash")
    video = client.video("a cat on the moon", model="viduq3-pro", duration=1)
    failing = yjnb.Client(**client_kwargs, headers={FAULT: "task=fail"})
    with pytest.raises(yjnb.TaskFailed):
        failing.video("a forbidden cat", model="viduq3-pro", duration=1)
    stuck = yjnb.Client(**client_kwargs, headers={FAULT: "task=stuck"})
    with pytest.raises(yjnb.TaskTimeout) as timed_out:
        stuck.video("a slow cat", model="viduq3-pro", duration=1, timeout=0.3)

    df = yjnb.usage()
    got = list(zip(df["kind"], df["status"], strict=True))
    assert got == [
        ("chat", "ok"),
        ("chat", "ok"),
        ("chat", "interrupted"),
        ("chat", "failed"),
        ("image", "ok"),
        ("video", "ok"),
        ("video", "failed"),
        ("video", "timeout"),
    ]
    ok_chat = df.iloc[0]
    assert ok_chat["model"] == "qwen3-max" and ok_chat["catelog"] == "t2t"
    assert ok_chat["total_tokens"] == answer.usage.total_tokens > 0
    assert ok_chat["usage_id"] == answer.usage_id
    assert ok_chat["prompt"] == "你是谁"
    assert '"system": "answer briefly"' in ok_chat["params"]
    assert df.iloc[1]["ttft_s"] > 0 and df.iloc[1]["total_tokens"] > 0
    assert "connection dropped" in df.iloc[2]["error"]
    assert df.iloc[2]["partial_text"] == dropped.value.partial_text != ""
    assert df["partial_text"].isna().iloc[1]  # a whole answer is not kept
    assert "401" in df.iloc[3]["error"]
    assert WRONG_KEY not in df.iloc[3]["error"]

    image_row, video_row, failed_row, timeout_row = (df.iloc[i] for i in range(4, 8))
    assert image_row["taskid"] == image.taskid and image_row["image_url"] == image.image_url
    assert image_row["credits"] == image.credits > 0
    assert video_row["taskid"] == video.taskid and video_row["video_url"] == video.video_url
    assert video_row["credits"] == video.credits > 0
    assert video_row["media_seconds"] == 1.0
    assert video_row["latency_s"] > 0 and video_row["finished_at"] > video_row["started_at"]
    assert '"credits"' in video_row["usage_raw"]
    assert failed_row["error"] and "emulated fault" in failed_row["error"]
    assert timeout_row["taskid"] == timed_out.value.task.taskid

    summary = Ledger(isolated_env / "ledger.sqlite").summary("kind")
    assert dict(summary["calls"]) == {"video": 3, "image": 1, "chat": 4}
    assert summary.loc["chat", "failures"] == 2 and summary.loc["video", "failures"] == 2

    # No key anywhere in the file, its WAL or its shared memory: neither the good one nor the
    # rejected one. The WAL is checked before any checkpoint folds it into the database.
    data = file_bytes(ledger)
    assert len(data) > 0
    for key in (emulator.api_key, WRONG_KEY):
        assert key.encode() not in data
        assert key.encode("utf-16-le") not in data


def test_a_task_row_lives_through_its_task(client_kwargs: dict[str, Any], ledger: Ledger) -> None:
    client = yjnb.Client(**client_kwargs)
    task = client.video("a cat", model="viduq3-pro", duration=1, wait=False)
    (row,) = ledger.tasks()
    assert (row["taskid"], row["status"], row["credits"]) == (task.taskid, "pending", None)
    seen: list[str] = []

    def on_update(_: Any) -> None:  # while polling, the row is there and still one row
        rows = ledger.tasks()
        assert len(rows) == 1
        seen.append(rows[0]["status"])

    client.wait(task, on_update=on_update)
    assert seen and set(seen[:-1]) <= {"pending"}
    (done,) = ledger.tasks()
    assert done["id"] == row["id"]
    assert done["status"] == "ok" and done["credits"] == task.credits
    assert done["video_url"] == task.video_url


def test_a_timed_out_task_resumed_elsewhere_finishes_in_place(
    client_kwargs: dict[str, Any], ledger: Ledger
) -> None:
    with pytest.raises(yjnb.TaskTimeout) as info:
        yjnb.Client(**client_kwargs).video("a cat", model="viduq3-pro", duration=1, timeout=0.01)
    taskid = info.value.task.taskid
    assert [t["status"] for t in ledger.tasks()] == ["timeout"]
    # A new client (as after a kernel restart) knows only the id.
    resumed = yjnb.Client(**client_kwargs).wait(taskid)
    assert resumed.status == "SUCCEEDED"
    (row,) = ledger.tasks()
    assert row["status"] == "ok" and row["model"] == "viduq3-pro" and row["prompt"] == "a cat"
    assert row["credits"] == resumed.credits
    assert len(ledger) == 1


def test_async_client_calls_are_recorded(client_kwargs: dict[str, Any], ledger: Ledger) -> None:
    import asyncio

    async def main() -> None:
        async with yjnb.AsyncClient(**client_kwargs) as client:
            await asyncio.gather(*(client.chat(f"question {i}") for i in range(10)))

    asyncio.run(main())
    df = yjnb.usage()
    assert len(df) == 10 and set(df["status"]) == {"ok"}
    assert sorted(df["prompt"]) == sorted(f"question {i}" for i in range(10))


def test_a_restarted_stream_leaves_its_broken_attempt_in_the_ledger(
    emulator: Any, client_kwargs: dict[str, Any], ledger: Ledger
) -> None:
    emulator.set_faults(path="/llmage/v1/chat/completions", times=1, drop_after=4)
    stream = yjnb.Client(**client_kwargs).chat("tell me a long story", stream=True)
    list(stream)
    (broken,) = stream.broken_attempts
    df = yjnb.usage()
    assert list(df["status"]) == ["interrupted", "ok"]
    assert df.iloc[0]["partial_text"] == broken.text != ""
    assert "connection dropped: started again (1 of 1)" in df.iloc[0]["error"]
    assert df["partial_text"].isna().iloc[1]
    assert df.iloc[1]["total_tokens"] == stream.result.usage.total_tokens
