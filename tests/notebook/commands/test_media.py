"""%yj_video / %yj_image / %yj_tasks through a real IPython shell against the emulator."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

if __package__:  # tests/notebook as a package or as a rootdir-inserted folder
    from ..media_helpers import JPEG, image_outputs, last_html, watcher_of
else:
    from media_helpers import JPEG, image_outputs, last_html, watcher_of

from yjnb.notebook.services.media_request import split_params
from yjnb.protocols import create

VIDEO_POST = "POST /llmage/v1/video/generations"
YJ = create("yuanjing").catalog
IMAGE_POST = "POST /llmage/v1/image/generations"
FAIL_REASON = "Task failed: the provider rejected the request (emulated fault)"


# -- words -> parameters ------------------------------------------------------------------------


def test_words_split_into_parameters_and_prompt() -> None:
    params, prompt = split_params(
        "video",
        "viduq3-pro",
        ["duration=4", "a", "cat", "ratio=16:9", "x=1", "image_file1=a.jpg"],
        catalog=YJ,
    )
    assert params == {"duration": "4", "ratio": "16:9", "image_file1": "a.jpg"}
    assert prompt == ["a", "cat", "x=1"]  # x is no parameter of any model: prompt text


def test_a_near_miss_parameter_is_refused_not_sent_as_prompt() -> None:
    with pytest.raises(UsageError, match="did you mean duration"):
        split_params("video", "viduq3-pro", ["duraton=4", "a", "cat"], catalog=YJ)


def test_quoted_prompt_keeps_its_spaces_and_equals(ip: Any, emulator: Any) -> None:
    ip.run_line_magic("yj_image", "-o t \"a = b,  c\" negative_prompt='blurry, dark'")
    task = ip.user_ns["t"]
    assert task.prompt == "a = b,  c"
    assert task.params == {"negative_prompt": "blurry, dark"}


# -- success, the card, the saved file -----------------------------------------------------------


def test_video_card_updates_in_place_and_becomes_the_result(ip: Any, emulator: Any) -> None:
    with capture_output() as captured:
        ip.run_line_magic("yj_video", "-o t --save out duration=2 a cat on the moon")
    task = ip.user_ns["t"]
    assert task.status == "SUCCEEDED"
    outputs = captured.outputs
    ids = {o.transient["display_id"] for o in outputs}
    assert len(ids) == 1, "one display, updated in place"
    assert not outputs[0].update and all(o.update for o in outputs[1:])
    html = last_html(captured)
    video, cover = Path("out") / f"{task.taskid}.mp4", Path("out") / f"{task.taskid}-cover.jpg"
    assert video.is_file() and cover.is_file()
    assert f"<video controls preload='metadata' src='out/{task.taskid}.mp4'" in html
    # The poster is the saved cover itself (3.7 KB), embedded: seen without the folder too.
    poster = base64.b64encode(cover.read_bytes()).decode()
    assert f"poster='data:image/jpeg;base64,{poster}'" in html
    assert outputs[-1].data["image/jpeg"] == poster  # for viewers that show no HTML
    assert "width:min(100%,640px)" in html
    assert "50 credits" in html and "2 s" in html and "1080p" in html
    assert f"href='out/{task.taskid}.mp4'" in html
    assert "data:video" not in html and html.count("base64,") == 1  # never the video itself
    assert task.local_paths["video"] == str(video.absolute())
    assert emulator.count(VIDEO_POST) == 1


def test_image_is_saved_beside_the_notebook_and_embedded_in_the_output(
    ip: Any, emulator: Any, isolated_env: Path
) -> None:
    with capture_output() as captured:
        ip.run_line_magic("yj_image", "-o t a red apple")
    task = ip.user_ns["t"]
    saved = Path(task.local_paths["image"])
    assert saved.parent == Path.cwd() / "media" and saved.is_file()  # the default media_dir
    assert saved.name == f"{task.taskid}.png"
    html = last_html(captured)
    assert f"href='media/{task.taskid}.png'" in html  # the card links the file
    card_text = [o.data["text/plain"] for o in captured.outputs if "text/html" in o.data][-1]
    assert f"saved: media/{task.taskid}.png" in card_text  # no author's home directory
    assert "<img" not in html  # ... and the ordinary image output after it shows it
    (embedded,) = image_outputs(captured)
    assert base64.b64decode(embedded["image/png"]) == saved.read_bytes()
    assert f"{task.taskid}.png" in embedded["text/plain"]
    assert captured.outputs[-1].data is embedded  # after the card's final state
    assert emulator.count(IMAGE_POST) == 1


def test_an_empty_media_dir_means_yj_home_media(
    ip: Any, magics: Any, emulator: Any, isolated_env: Path
) -> None:
    magics.media_dir = ""
    with capture_output() as captured:
        ip.run_line_magic("yj_image", "-o t a red apple")
    saved = Path(ip.user_ns["t"].local_paths["image"])
    assert saved.parent == isolated_env / "media" and saved.is_file()
    assert not Path("media").exists()
    assert len(image_outputs(captured)) == 1  # embedded all the same


def test_media_dir_setting_and_cell_body_prompt(ip: Any, magics: Any, emulator: Any) -> None:
    magics.media_dir = "pics"
    ip.run_cell_magic("yj_image", "-o t -m cogview-3-flash", "a poster that says x=1\n")
    task = ip.user_ns["t"]
    assert task.prompt == "a poster that says x=1"
    assert Path("pics", f"{task.taskid}.png").is_file()


# -- validation: nothing is sent -----------------------------------------------------------------


def test_every_problem_in_one_usage_error_and_nothing_sent(ip: Any, emulator: Any) -> None:
    with pytest.raises(UsageError) as err:
        ip.run_line_magic("yj_video", "duration=99 resolution=4k size=1280*720 a cat")
    message = str(err.value)
    assert "nothing was sent" in message and "3 problem" in message
    assert "duration 99 is out of range" in message and "allowed: 1-16" in message
    assert "resolution '4k' is not allowed" in message and "540p, 720p, 1080p" in message
    assert "unknown parameter 'size'" in message
    assert emulator.count(VIDEO_POST) == 0


def test_missing_files_and_too_many_files_are_caught_before_sending(ip: Any, emulator: Any) -> None:
    with pytest.raises(UsageError, match=r"no such file: 'missing\.jpg'"):
        ip.run_line_magic("yj_video", "first_frame=missing.jpg last_frame=missing.jpg a cat")
    for i in range(10):
        Path(f"r{i}.jpg").write_bytes(JPEG)
    names = ",".join(f"r{i}.jpg" for i in range(10))
    with pytest.raises(UsageError, match=r"10 files given; happyhorse-1\.0-r2v .* at most 9"):
        ip.run_line_magic("yj_video", f"-m happyhorse-1.0-r2v images={names} a cat")
    assert emulator.count(VIDEO_POST) == 0


def test_catelog_follows_from_the_files(ip: Any, emulator: Any) -> None:
    Path("a.jpg").write_bytes(JPEG)
    Path("b.jpg").write_bytes(JPEG)
    ip.run_line_magic("yj_video", "-o i2v first_frame=a.jpg last_frame=b.jpg a cat")
    ip.run_line_magic("yj_video", "-o r2v -m doubao-seedance-2-0-260128 images=a.jpg,b.jpg a cat")
    ip.run_line_magic(
        "yj_video",
        "-o url first_frame=https://example.com/a.jpg last_frame=https://example.com/b.jpg a cat",
    )
    ip.run_line_magic("yj_video", "-o t2v -m doubao-seedance-2-0-260128 a cat")
    ns = ip.user_ns
    assert (ns["i2v"].catelog, ns["r2v"].catelog, ns["url"].catelog) == ("i2v", "ref2v", "i2v")
    assert ns["t2v"].catelog == "t2v"
    assert ns["i2v"].params == {"image_file1": "a.jpg", "image_file2": "b.jpg"}
    assert ns["url"].params["image_file1"] == "https://example.com/a.jpg"
    assert all(ns[k].status == "SUCCEEDED" for k in ("i2v", "r2v", "url", "t2v"))


def test_insufficient_balance_is_one_clear_error_and_nothing_is_recorded(
    ip: Any, emulator: Any
) -> None:
    from yjnb.ledger import default_ledger

    emulator.set_balance(emulator.api_key, 0)
    with pytest.raises(UsageError, match=r"Insufficient balance.*nothing was charged"):
        ip.run_line_magic("yj_video", "-o t a cat")
    assert "t" not in ip.user_ns
    assert default_ledger().tasks() == []
    assert emulator.count(VIDEO_POST) == 1  # the platform refused it: no task, no charge


# -- failure and deadline ------------------------------------------------------------------------


def test_failed_task_shows_the_platforms_reason(ip: Any, emulator: Any) -> None:
    emulator.set_faults(task="fail")
    with capture_output() as captured:
        ip.run_line_magic("yj_video", "-o t a cat")
    html = last_html(captured)
    assert ip.user_ns["t"].status == "FAILED"
    assert ">failed</span>" in html and "failed:</b> " + FAIL_REASON in html
    assert "<video" not in html


def test_stuck_task_reaches_the_deadline_and_stays_resumable(
    ip: Any, magics: Any, emulator: Any
) -> None:
    from yjnb.ledger import default_ledger

    emulator.set_faults(task="stuck")
    with capture_output() as captured:
        ip.run_line_magic("yj_video", "-o t --timeout 0.3 a cat")
    task = ip.user_ns["t"]
    html = last_html(captured)
    assert ">timeout</span>" in html and "deadline reached: still running" in html
    assert "%yj_tasks --resume" in html
    assert magics.session.client().task(task.taskid).status == "RUNNING"
    pending = [r["taskid"] for r in default_ledger().pending_tasks(include_timeout=True)]
    assert task.taskid in pending


# -- background, interrupt, resume ---------------------------------------------------------------


def test_bg_returns_at_once_and_finishes_while_other_cells_run(
    ip: Any, magics: Any, emulator: Any
) -> None:
    emulator.set_speed(1.0)  # 26 s per video: nothing finishes unless the clock is advanced
    with capture_output() as captured:
        ip.run_line_magic("yj_video", "--bg -o t a cat")
        task = ip.user_ns["t"]
        assert not task.done
        ip.run_cell("x = 21 * 2")
        assert ip.user_ns["x"] == 42 and not task.done
        emulator.advance(30)
        watcher_of(magics, task).result(timeout=30)
    assert ip.user_ns["t"] is task and task.status == "SUCCEEDED"
    assert task.local_paths["video"]
    assert "<video controls" in last_html(captured)
    ids = {o.transient["display_id"] for o in captured.outputs if o.transient}
    assert len(ids) == 1


def test_interrupt_moves_the_wait_to_the_background(
    ip: Any, magics: Any, emulator: Any, interrupt_main_soon: Any
) -> None:
    emulator.set_speed(1.0)
    interrupt_main_soon(0.5)
    with capture_output() as captured:
        ip.run_line_magic("yj_video", "-o t a cat")  # returns instead of raising
    task = ip.user_ns["t"]
    assert "moved to the background" in captured.stdout
    assert "keeps running in the background" in last_html(captured)
    watcher = watcher_of(magics, task)
    assert not watcher.done
    emulator.advance(30)
    assert watcher.result(timeout=30) is task and task.status == "SUCCEEDED"


def test_resume_in_a_fresh_shell_from_the_ledger(ip: Any, magics: Any, emulator: Any) -> None:
    emulator.set_speed(1.0)
    ip.run_line_magic("yj_video", "--bg -o t a cat")
    taskid = ip.user_ns["t"].taskid
    watcher_of(magics, ip.user_ns["t"]).cancel()  # the kernel dies: nobody follows the task

    fresh = type(ip)()  # a new kernel (TestingShell) with the same YJ_HOME
    try:
        fresh.run_line_magic("load_ext", "yjnb")
        other = fresh.magics_manager.registry["YJMagics"]
        other.session.client_options = dict(magics.session.client_options)  # the fast poll schedule
        with capture_output() as captured:
            fresh.run_line_magic("yj_tasks", "--resume")
        assert "following 1 unfinished task" in captured.stdout
        resumed = watcher_of(other, ip.user_ns["t"])
        emulator.advance(30)
        task = resumed.result(timeout=30)
        assert task.taskid == taskid and task.status == "SUCCEEDED"
        assert Path(task.local_paths["video"]).is_file()
        from yjnb.ledger import default_ledger

        row = next(r for r in default_ledger().tasks() if r["taskid"] == taskid)
        assert row["status"] == "ok" and row["local_path"] == task.local_paths["video"]
        with capture_output() as captured:
            fresh.run_line_magic("yj_tasks", "--resume")
        assert "no unfinished tasks" in captured.stdout
    finally:
        fresh.run_line_magic("unload_ext", "yjnb")


def test_yj_tasks_lists_and_shows_tasks(ip: Any, emulator: Any) -> None:
    ip.run_line_magic("yj_image", "-o t a <b>bold</b> apple")
    emulator.set_faults(task="fail")
    ip.run_line_magic("yj_image", "-o f a pear")
    with capture_output() as captured:
        ip.run_line_magic("yj_tasks", "")
    html = last_html(captured)
    assert ip.user_ns["t"].taskid in html and ip.user_ns["f"].taskid in html
    assert "a &lt;b&gt;bold&lt;/b&gt; apple" in html and "<b>bold" not in html
    # The ledger's words, not the platform's (one vocabulary: yjnb._status).
    assert "<td style='text-align:left'>ok</td>" in html
    assert "<td style='text-align:left'>failed</td>" in html
    assert "SUCCEEDED" not in html and "FAILED" not in html
    with capture_output() as captured:
        ip.run_line_magic("yj_tasks", ip.user_ns["f"].taskid)
    assert FAIL_REASON in last_html(captured)
    assert image_outputs(captured) == []
    with capture_output() as captured:  # a finished image shows its embedded data again
        ip.run_line_magic("yj_tasks", ip.user_ns["t"].taskid)
    (embedded,) = image_outputs(captured)
    assert (
        base64.b64decode(embedded["image/png"])
        == Path("media", f"{ip.user_ns['t'].taskid}.png").read_bytes()
    )


def test_no_prompt_shows_the_form(ip: Any, emulator: Any) -> None:
    from yjnb.notebook.widgets.forms import TaskForm

    with capture_output() as captured:
        shown = ip.run_line_magic("yj_video", "-o form -m happyhorse-1.0-t2v duration=7")
    assert shown is None, "displayed, not returned: no Out[n] prompt"
    form = ip.user_ns["form"]
    assert isinstance(form, TaskForm)
    assert [o.data["text/plain"][:9] for o in captured.outputs] == ["TaskForm("]
    assert form.model.value == "happyhorse-1.0-t2v"
    assert form.fields["duration"].input.value == 7
    assert emulator.count(VIDEO_POST) == 0


def test_prompt_words_may_follow_options_and_quoted_values_keep_spaces(
    ip: Any, emulator: Any
) -> None:
    line = '-m wan2.2-t2i-flash -o t "negative_prompt=blurry, low" a "cat\'s" hat --timeout 30'
    ip.run_line_magic("yj_image", line)
    task = ip.user_ns["t"]
    assert task.succeeded
    assert task.prompt == "a cat's hat"
    assert task.params["negative_prompt"] == "blurry, low"
    with pytest.raises(UsageError, match="check the quotes"):
        ip.run_line_magic("yj_image", "the cat's hat")


def test_yj_tasks_on_an_empty_ledger_says_so_plainly(ip: Any) -> None:
    with capture_output() as captured:
        ip.run_line_magic("yj_tasks", "")
    shown = " ".join(o.data.get("text/plain", "") for o in captured.outputs)
    assert "no tasks yet" in shown
    assert "not available" not in shown  # an empty ledger is not a missing one


# -- a parameter of other models, not of this one ------------------------------------------------


def test_a_leading_parameter_this_model_does_not_take_is_refused_with_nothing_sent(
    ip: Any, emulator: Any
) -> None:
    # `size` is a parameter of wan2.6-t2v and of the OpenAI-style image models, not of
    # wan2.2-t2i-flash: charged as "size=999x999 a cat" before, refused now.
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("yj_image", "-m wan2.2-t2i-flash size=999x999 a cat")
    message = str(info.value)
    assert message.startswith("nothing was sent")
    assert "unknown parameter 'size' for wan2.2-t2i-flash (t2i); allowed: negative_prompt" in (
        message
    )
    with pytest.raises(UsageError, match=r"unknown parameter 'size' for viduq3-pro \(t2v\)"):
        ip.run_line_magic("yj_video", "-m viduq3-pro size=1280*720 a cat")
    assert emulator.counts == {}
    # After the first prompt word, or a name no model takes, it is prompt text as before.
    params, prompt = split_params("image", "wan2.2-t2i-flash", ["a", "size=2", "cat"], catalog=YJ)
    assert params == {} and prompt == ["a", "size=2", "cat"]
    params, prompt = split_params("image", "wan2.2-t2i-flash", ["x=1", "cat"], catalog=YJ)
    assert params == {} and prompt == ["x=1", "cat"]
