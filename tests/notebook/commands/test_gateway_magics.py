"""The magics on `gateway` profiles (`/{platform}/v1/...`) against the emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from chat_helpers import run
from conftest import Sent
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output
from media_helpers import image_outputs, last_html

GW_CHAT = "POST /google/v1/chat/completions"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def gw(shell: Any, profiles: Path) -> Any:
    return shell


def _posts(wire: list[Sent], path: str) -> list[Sent]:
    return [s for s in wire if s.method == "POST" and s.path == path]


# -- chat -------------------------------------------------------------------------------------


def test_chat_streams_through_the_profiles_platform(
    gw: Any, emulator: Any, wire: list[Sent]
) -> None:
    shown = run(gw, "-p gw", "echo: hello from the gateway")
    assert shown.error is None and shown.stdout.startswith("hello from the gateway")
    assert gw.user_ns["_yj"].model == "gemini-2.5-flash"
    assert emulator.count(GW_CHAT) == 1
    (sent,) = _posts(wire, "/google/v1/chat/completions")
    assert sent.json["stream"] is True


def test_platform_override_for_one_cell_and_its_default_model(
    gw: Any, emulator: Any, wire: list[Sent]
) -> None:
    gw.run_cell_magic("yj_chat", "-p gw --platform openai", "echo: from openai")
    assert gw.user_ns["_yj"].model == "gpt-4o-mini"  # the openai platform's default
    assert emulator.count("POST /openai/v1/chat/completions") == 1
    gw.run_cell_magic("yj_chat", "-p gwo -m gpt-4o", "echo: again")
    assert emulator.count("POST /openai/v1/chat/completions") == 2
    assert emulator.count(GW_CHAT) == 0


def test_images_and_files_are_attached(gw: Any, wire: list[Sent]) -> None:
    Path("photo.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 60)
    Path("doc.pdf").write_bytes(b"%PDF-1.4 tiny")
    gw.run_cell_magic("yj_chat", "-p gw images=photo.jpg files=doc.pdf", "Summarise")
    assert gw.user_ns["_yj"].text.startswith("I see 1 image and 1 file.")
    content = _posts(wire, "/google/v1/chat/completions")[-1].json["messages"][-1]["content"]
    assert [p["type"] for p in content] == ["text", "image_url", "file"]
    assert content[2]["file"]["file_data"].startswith("data:application/pdf;base64,")


def test_history_travels_as_messages(gw: Any, magics: Any, wire: list[Sent]) -> None:
    gw.run_cell_magic("yj_chat", "-p gw", "echo: one")
    gw.run_cell_magic("yj_chat", "-p gw", "echo: two")
    messages = _posts(wire, "/google/v1/chat/completions")[-1].json["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"] == "one"
    # each platform keeps its own conversations
    gw.run_cell_magic("yj_chat", "-p gw --platform openai", "echo: x")
    assert len(_posts(wire, "/openai/v1/chat/completions")[-1].json["messages"]) == 1
    keys = set(magics.session.conversations)
    assert keys == {("gw/google", "gemini-2.5-flash"), ("gw/openai", "gpt-4o-mini")}


def test_one_line_errors(gw: Any, emulator: Any) -> None:
    with pytest.raises(UsageError, match="not available on platform google") as err:
        gw.run_cell_magic("yj_chat", "-p gw -m gpt-4o", "hello")
    assert "\n" not in str(err.value)
    with pytest.raises(UsageError, match=r"nothing was sent; 1 problem: top_p 2"):
        gw.run_cell_magic("yj_chat", "-p gw top_p=2", "hello")
    with pytest.raises(UsageError, match="api='responses' needs an openai profile"):
        gw.run_cell_magic("yj_chat", "-p gw --responses", "hello")
    with pytest.raises(UsageError, match="must be a plain name"):
        gw.run_cell_magic("yj_chat", "-p gw --platform a/b", "hello")
    emulator.set_faults(status=401, path="/google/v1/chat")
    with pytest.raises(UsageError, match="AuthenticationError") as err:
        gw.run_cell_magic("yj_chat", "-p gw", "hello")
    assert "\n" not in str(err.value)
    assert emulator.count(GW_CHAT) == 2  # the 404 and the 401; nothing else was sent


# -- images, videos, remix --------------------------------------------------------------------


def test_image_is_an_async_task_that_is_polled(gw: Any, emulator: Any) -> None:
    with capture_output() as captured:
        gw.run_line_magic("yj_image", "-p gw -o t size=16:9 a lighthouse")
    task = gw.user_ns["t"]
    assert task.status == "SUCCEEDED" and task.platform == "google"
    assert Path(task.local_paths["image"]).is_file()
    assert ">ok</span>" in last_html(captured) and len(image_outputs(captured)) == 1
    assert emulator.count("POST /google/v1/images/generations") == 1
    assert emulator.count(f"GET /google/v1/images/{task.taskid}") >= 1


def test_video_with_progress_and_remix_on_another_platform(
    gw: Any, emulator: Any, wire: list[Sent]
) -> None:
    emulator.set_speed(20.0)
    with capture_output() as captured:
        gw.run_line_magic("yj_video", "-p gw --platform openai -o v -m sora-2 duration=4 a cat")
    video = gw.user_ns["v"]
    htmls = [o.data["text/html"] for o in captured.outputs]
    assert any("<progress value=" in h for h in htmls)
    assert video.status == "SUCCEEDED" and video.platform == "openai"
    assert Path(video.local_paths["video"]).is_file()
    assert _posts(wire, "/openai/v1/videos")[0].json["seconds"] == "4"
    # the remix keeps the video's platform, even without --platform
    gw.run_line_magic("yj_video", f"-p gw -o r --remix {video.taskid} now in the rain")
    remix = gw.user_ns["r"]
    assert remix.succeeded and remix.remixed_from == video.taskid and remix.model == "sora-2"
    assert emulator.count(f"POST /openai/v1/videos/{video.taskid}/remix") == 1


def test_media_errors_are_one_line(gw: Any, emulator: Any) -> None:
    with pytest.raises(UsageError, match="not available on platform google") as err:
        gw.run_line_magic("yj_video", "-p gw -m sora-2 a cat")
    assert "\n" not in str(err.value)
    with pytest.raises(UsageError, match=r"nothing was sent.*veo-3\.1.*duration"):
        gw.run_line_magic("yj_video", "-p gw duration=4 a cat")
    with pytest.raises(UsageError, match="platform= needs a gateway profile"):
        gw.run_line_magic("yj_image", "-p oa --platform google a cat")
    assert emulator.count("POST /google/v1/videos") == 1


def test_failed_video_shows_the_reason(gw: Any, emulator: Any) -> None:
    emulator.set_faults(task="fail")
    with capture_output() as captured:
        gw.run_line_magic("yj_video", "-p gw -o v a cat")
    assert gw.user_ns["v"].status == "FAILED"
    html = last_html(captured)
    assert ">failed</span>" in html and "failed:</b>" in html and "<video" not in html


@pytest.mark.filterwarnings("ignore::yjnb.YJWarning")  # the core warns too; the magic prints it
def test_a_model_the_catalog_does_not_know_is_sent_with_a_warning(
    gw: Any, emulator: Any, wire: list[Sent]
) -> None:
    line = "-p gw --platform doubao -o t -m seedream-4.0 size=1:1 a cat"
    with capture_output() as captured:
        gw.run_line_magic("yj_image", line)
    assert "model 'seedream-4.0' is not in yjnb's openai catalog" in captured.stdout
    task = gw.user_ns["t"]
    assert task.succeeded and task.platform == "doubao"
    assert _posts(wire, "/doubao/v1/images/generations")[0].json["size"] == "1:1"
