"""Media tasks end to end against the emulator: submit, poll, wait, fail, time out, download."""

from __future__ import annotations

import io
import itertools
from pathlib import Path
from typing import Any

import pytest

import yjnb
from yjnb._magic import MP4
from yjnb._tasks import PollSchedule, media_filename
from yjnb._types import Task
from yjnb.protocols.base import fold_status

VIDEO = "POST /llmage/v1/video/generations"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_text_to_video_waits_and_reports_usage(
    client_kwargs: dict[str, Any], records: list[Any]
) -> None:
    client = yjnb.Client(**client_kwargs)
    seen: list[str] = []
    task = client.video(
        "a cat on the moon",
        model="viduq3-pro",
        duration=1,
        resolution="540p",
        on_update=lambda t: seen.append(t.status),
    )
    assert task.status == "SUCCEEDED" and task.succeeded
    assert task.catelog == "t2v"
    assert task.video_url and task.image_url
    assert task.credits is not None and task.credits > 0
    assert task.usage is not None and task.usage["model"] == "viduq3-pro"
    assert seen[-1] == "SUCCEEDED" and len(seen) >= 2
    assert [(r.kind, r.status, r.taskid) for r in records] == [
        ("video", "pending", task.taskid),
        ("video", "ok", task.taskid),
    ]
    assert records[-1].credits == task.credits


def test_text_to_image(client_kwargs: dict[str, Any]) -> None:
    task = yjnb.Client(**client_kwargs).image("一只猫坐在月亮上", model="wan2.2-t2i-flash")
    assert task.succeeded and task.kind == "image" and task.catelog == "t2i"
    assert task.image_url and not task.video_url


def test_validation_happens_before_anything_is_sent(
    client_kwargs: dict[str, Any], emulator: Any, records: list[Any]
) -> None:
    client = yjnb.Client(**client_kwargs)
    with pytest.raises(yjnb.ValidationError) as info:
        client.video("a cat", model="viduq3-pro", duration=99, resolution="4k", colour="red")
    assert len(info.value.problems) == 3
    assert "540p" in str(info.value)
    assert emulator.count(VIDEO) == 0 and records == []


def test_image_to_video_sends_multipart_files(
    client_kwargs: dict[str, Any], emulator: Any, tmp_path: Path
) -> None:
    first = tmp_path / "first.jpg"
    first.write_bytes(JPEG)
    client = yjnb.Client(**client_kwargs)
    task = client.video(
        "from one frame to the other",
        model="viduq3-pro",
        first_frame=first,
        last_frame=io.BytesIO(PNG),
        duration=2,
    )
    assert task.succeeded and task.catelog == "i2v"
    assert task.params["image_file1"] == str(first)
    assert emulator.count(VIDEO) == 1


def test_reference_to_video_with_repeated_files(
    client_kwargs: dict[str, Any], tmp_path: Path
) -> None:
    paths = []
    for i in range(3):
        path = tmp_path / f"ref{i}.png"
        path.write_bytes(PNG)
        paths.append(str(path))
    task = yjnb.Client(**client_kwargs).video(
        "smooth transition", model="happyhorse-1.0-r2v", images=",".join(paths), duration=4
    )
    assert task.succeeded and task.catelog == "ref2v"
    assert task.params["image_files"] == paths


def test_unknown_model_passes_through_with_a_warning(
    client_kwargs: dict[str, Any], emulator: Any
) -> None:
    client = yjnb.Client(**client_kwargs)
    with (
        pytest.warns(yjnb.YJWarning, match="not in yjnb's catalog"),
        pytest.raises(yjnb.BadRequestError),
    ):
        client.video("a cat", model="brand-new-model", wait=False)
    assert emulator.count(VIDEO) == 1  # sent: the platform adds models before yjnb knows them


def test_failed_task_raises_with_the_platforms_reason(
    client_kwargs: dict[str, Any], records: list[Any]
) -> None:
    client = yjnb.Client(**client_kwargs, headers={"X-Emulator-Fault": "task=fail"})
    with pytest.raises(yjnb.TaskFailed) as info:
        client.video("a cat", model="viduq3-pro", duration=1)
    task = info.value.task
    assert task.status == "FAILED" and task.error
    assert task.error in str(info.value)
    assert [r.status for r in records] == ["pending", "failed"]
    again = client.wait(task.taskid, raise_on_failure=False)
    assert again.status == "FAILED"


def test_stuck_task_times_out_and_stays_resumable(
    client_kwargs: dict[str, Any], records: list[Any]
) -> None:
    client = yjnb.Client(**client_kwargs, headers={"X-Emulator-Fault": "task=stuck"})
    with pytest.raises(yjnb.TaskTimeout, match="resume") as info:
        client.video("a cat", model="viduq3-pro", duration=1, timeout=0.5)
    task = info.value.task
    assert task.status == "RUNNING"
    assert [r.status for r in records] == ["pending", "timeout"]
    assert client.task(task.taskid).status == "RUNNING"  # still there to resume


def test_a_task_the_service_does_not_know_is_lost_with_the_reason(
    client_kwargs: dict[str, Any], emulator: Any, records: list[Any]
) -> None:
    client = yjnb.Client(**client_kwargs)
    with pytest.raises(yjnb.TaskLost, match="not known to this service") as info:
        client.wait("123456789", timeout=30)
    assert isinstance(info.value, yjnb.BadRequestError) and info.value.status_code == 404
    assert info.value.task.taskid == "123456789"
    assert [(r.status, r.taskid) for r in records] == [("lost", "123456789")]
    assert "Task not found" in (records[0].error or "")
    assert emulator.count("GET /llmage/v1/tasks") == 1  # a 404 is not retried


def test_a_key_the_service_refuses_leaves_the_task_resumable(
    client_kwargs: dict[str, Any], records: list[Any]
) -> None:
    task = yjnb.Client(**client_kwargs).video("a cat", model="viduq3-pro", duration=1, wait=False)
    wrong = yjnb.Client(**{**client_kwargs, "api_key": "sk-not-a-key-of-this-emulator"})
    with pytest.raises(yjnb.AuthenticationError):
        wrong.wait(task.taskid, timeout=30)
    assert [r.status for r in records] == ["pending"]  # not closed: the right key may see it
    assert yjnb.Client(**client_kwargs).wait(task.taskid, timeout=30).succeeded


def test_wait_by_task_id_after_submitting_without_waiting(client_kwargs: dict[str, Any]) -> None:
    client = yjnb.Client(**client_kwargs)
    submitted = client.video("a cat", model="wan2.6-t2v", duration=5, wait=False)
    assert submitted.status == "CREATED" and not submitted.done
    finished = client.wait(submitted.taskid, timeout=30)
    assert finished.succeeded and finished.video_url


def test_legacy_protocol_uses_llmid_and_lowercase_status(
    client_kwargs: dict[str, Any], emulator: Any
) -> None:
    client = yjnb.Client(**client_kwargs, profile="legacy")
    assert client.settings.protocol == "yuanjing-legacy"
    task = client.video("小猫在抓老鼠", model="viduq3-pro", duration=1)
    assert task.succeeded
    assert emulator.count("POST /llmage/video") == 1
    assert emulator.count("GET /llmage/tasks") >= 1
    assert emulator.count(VIDEO) == 0


def test_download_saves_real_media_under_names_yjnb_makes(
    client_kwargs: dict[str, Any], tmp_path: Path
) -> None:
    client = yjnb.Client(**client_kwargs)
    task = client.video("a cat", model="viduq3-pro", duration=1)
    saved = client.download(task, tmp_path / "media")
    assert set(saved) == {"video", "cover"}
    assert saved["video"].name == f"{task.taskid}.mp4"
    assert saved["video"].read_bytes()[4:8] == b"ftyp"
    assert saved["cover"].read_bytes()[:2] == b"\xff\xd8"
    assert task.local_paths["video"] == str(saved["video"])
    image = client.image("a red square")
    png = client.download(image, tmp_path / "media")["image"]
    assert png.suffix == ".png" and png.read_bytes()[:4] == b"\x89PNG"


def test_download_respects_the_size_cap(client_kwargs: dict[str, Any], tmp_path: Path) -> None:
    client = yjnb.Client(**client_kwargs)
    task = client.video("a cat", model="viduq3-pro", duration=1)
    with pytest.raises(yjnb.YJError, match="max_bytes"):
        client.download(task, tmp_path, max_bytes=100)
    assert list(tmp_path.glob("*.mp4*")) == []


def test_hostile_server_paths_never_become_file_names() -> None:
    task = Task(taskid="../../etc/passwd")
    fold_status(task, {"status": "succeeded", "video": "http://x/idfile?path=/../../evil.sh"})
    name = media_filename(task, "video", MP4)  # the type that the file's own bytes showed
    assert Path(name).name == name and "/" not in name and not name.startswith(".")
    assert name.endswith(".mp4") and "evil" not in name and "passwd" in name
    assert task.status == "SUCCEEDED"


def test_status_casing_is_normalised_and_failure_reason_kept() -> None:
    task = fold_status(Task(taskid="1"), {"status": "created"})
    assert task.status == "CREATED" and not task.done
    fold_status(task, {"status": "Failed", "error": "content policy"})
    assert task.status == "FAILED" and task.error == "content policy" and task.finished_at


def test_poll_schedule_grows_from_about_one_second_to_ten() -> None:
    delays = list(itertools.islice(PollSchedule().delays(), 20))
    assert 0.8 <= delays[0] <= 1.2
    assert all(b >= a * 0.6 for a, b in itertools.pairwise(delays))
    assert 8.0 <= max(delays) <= 12.0
    assert len({round(d, 6) for d in delays[-5:]}) > 1  # jittered, not lockstep
