"""The magics on an `openai` profile (OpenAI-compatible service, `/v1`) against the emulator."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from chat_helpers import CHAT, run
from conftest import Sent
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output
from media_helpers import image_outputs, last_html, watcher_of

OA_CHAT = "POST /v1/chat/completions"
OA_RESPONSES = "POST /v1/responses"
OA_IMAGES = "POST /v1/images/generations"
OA_EDITS = "POST /v1/images/edits"
OA_VIDEOS = "POST /v1/videos"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def oa(shell: Any, profiles: Path) -> Any:
    return shell


def _chat_bodies(wire: list[Sent], path: str = "/v1/chat/completions") -> list[Any]:
    return [s.json for s in wire if s.method == "POST" and s.path == path]


# -- chat -------------------------------------------------------------------------------------


def test_chat_streams_from_the_openai_service_with_its_default_model(
    oa: Any, emulator: Any, wire: list[Sent]
) -> None:
    shown = run(oa, "-p oa", "echo: hello from openai")
    assert shown.error is None
    result = oa.user_ns["_yj"]
    assert result.text == "hello from openai" and result.model == "gemini-2.5-flash"
    assert shown.stdout.startswith("hello from openai")
    assert emulator.count(OA_CHAT) == 1 and emulator.count(CHAT) == 0
    (body,) = _chat_bodies(wire)
    assert body["stream"] is True and body["model"] == "gemini-2.5-flash"
    assert body["messages"][-1] == {"role": "user", "content": "echo: hello from openai"}


def test_a_model_set_by_the_user_wins_over_the_protocol_default(oa: Any, magics: Any) -> None:
    magics.model = "gpt-4o"
    oa.run_cell_magic("yj_chat", "-p oa", "echo: x")
    assert oa.user_ns["_yj"].model == "gpt-4o"


def test_images_are_attached_as_parts(oa: Any, emulator: Any, wire: list[Sent]) -> None:
    Path("photo.png").write_bytes(PNG)
    Path("b.png").write_bytes(PNG)
    oa.run_cell_magic(
        "yj_chat", "-p oa --no-stream images=photo.png,https://example.com/c.jpg", "What is it?"
    )
    assert oa.user_ns["_yj"].text.startswith("I see 2 images.")
    content = _chat_bodies(wire)[-1]["messages"][-1]["content"]
    assert content[0] == {"type": "text", "text": "What is it?"}
    urls = [p["image_url"]["url"] for p in content[1:]]
    assert urls[0].startswith("data:image/png;base64,") and urls[1] == "https://example.com/c.jpg"
    oa.run_cell_magic("yj_chat", "-p oa --new images=b.png", "And this?")
    assert oa.user_ns["_yj"].text.startswith("I see 1 image.")


def test_history_travels_as_messages(oa: Any, wire: list[Sent]) -> None:
    oa.run_cell_magic("yj_chat", "-p oa -s 'Be brief'", "echo: first answer")
    oa.run_cell_magic("yj_chat", "-p oa", "echo: second answer")
    body = _chat_bodies(wire)[-1]
    assert body["messages"] == [
        {"role": "system", "content": "Be brief"},
        {"role": "user", "content": "echo: first answer"},
        {"role": "assistant", "content": "first answer"},
        {"role": "user", "content": "echo: second answer"},
    ]
    assert "<history>" not in str(body)
    oa.run_cell_magic("yj_chat", "-p oa --new", "echo: fresh")
    assert _chat_bodies(wire)[-1]["messages"] == [{"role": "user", "content": "echo: fresh"}]


def test_responses_api(oa: Any, emulator: Any, wire: list[Sent]) -> None:
    Path("photo.png").write_bytes(PNG)
    oa.run_cell_magic("yj_chat", "-p oa -m gpt-4o --api responses images=photo.png", "Describe")
    assert oa.user_ns["_yj"].text.startswith("I see 1 image.")
    oa.run_cell_magic("yj_chat", "-p oa -m gpt-4o --responses --no-stream", "echo: done")
    assert oa.user_ns["_yj"].text == "done"
    assert emulator.count(OA_RESPONSES) == 2 and emulator.count(OA_CHAT) == 0
    first = _chat_bodies(wire, "/v1/responses")[0]
    parts = first["input"][-1]["content"]
    assert parts[0]["type"] == "input_text" and parts[1]["type"] == "input_image"


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ("temperature=1.5 max_tokens=0", r"nothing was sent; 2 problems: temperature 1\.5"),
        ("images=missing.png", r"nothing was sent; 1 problem: images: no such file"),
        ("files=doc.pdf", r"files need a gateway profile; profile 'oa' uses openai"),
        ("--platform google", r"platform= needs a gateway profile"),
        ("images=", r"images= is empty"),
    ],
)
def test_bad_input_is_one_line_and_nothing_is_sent(
    oa: Any, emulator: Any, line: str, match: str
) -> None:
    Path("doc.pdf").write_bytes(b"%PDF-1.4")
    with pytest.raises(UsageError, match=match) as err:
        oa.run_cell_magic("yj_chat", f"-p oa {line}", "Tell me")
    assert "\n" not in str(err.value)
    assert emulator.count(OA_CHAT) == 0


def test_service_errors_are_one_line(oa: Any, emulator: Any) -> None:
    with pytest.raises(UsageError, match=r"no-such-model.*does not exist") as err:
        oa.run_cell_magic("yj_chat", "-p oa -m no-such-model", "Tell me")
    assert "\n" not in str(err.value)
    with pytest.raises(UsageError, match="OpenAI series models only") as err:
        oa.run_cell_magic("yj_chat", "-p oa -m gemini-2.5-pro --responses", "Tell me")
    assert "\n" not in str(err.value)


# -- images -----------------------------------------------------------------------------------


def test_image_is_made_at_once_and_shown(oa: Any, emulator: Any) -> None:
    with capture_output() as captured:
        oa.run_line_magic("yj_image", "-p oa -o t --save out size=16:9 a red apple")
    task = oa.user_ns["t"]
    assert task.status == "SUCCEEDED" and task.model == "nano-banana-pro"
    saved = Path(task.local_paths["image"])
    assert saved == (Path("out") / saved.name).absolute() and saved.read_bytes()[:4] == PNG[:4]
    html = last_html(captured)
    assert f"href='out/{saved.name}'" in html
    (embedded,) = image_outputs(captured)  # the image itself: an ordinary output
    assert base64.b64decode(embedded["image/png"]) == saved.read_bytes()
    tokens = task.usage["total_tokens"]
    assert tokens > 0 and f"this call: {tokens:,} tokens" in html  # no credits on this API
    assert emulator.count(OA_IMAGES) == 1 and emulator.count("POST /v1/images/edits") == 0


def test_image_edit_with_several_results(oa: Any, emulator: Any, wire: list[Sent]) -> None:
    Path("a.png").write_bytes(PNG)
    with capture_output() as captured:
        oa.run_line_magic("yj_image", "-p oa -o t images=a.png n=2 put a hat on it")
    task = oa.user_ns["t"]
    assert task.succeeded and {"image", "image-2"} <= set(task.local_paths)
    shown = [base64.b64decode(o["image/png"]) for o in image_outputs(captured)]
    assert shown == [Path(task.local_paths[k]).read_bytes() for k in ("image", "image-2")]
    assert emulator.count(OA_EDITS) == 1
    (edit,) = [s for s in wire if s.path == "/v1/images/edits"]
    assert [name for name, _ in edit.files] == ["image"] and edit.data["n"] == "2"


def test_image_checks_use_the_openai_catalog(oa: Any, emulator: Any) -> None:
    with pytest.raises(UsageError, match=r"nothing was sent.*dall-e-3.*size '16:9'"):
        oa.run_line_magic("yj_image", "-p oa -m dall-e-3 size=16:9 a cat")
    with pytest.raises(UsageError, match="did you mean quality"):
        oa.run_line_magic("yj_image", "-p oa qualty=hd a cat")
    with pytest.raises(UsageError, match="mask"):
        oa.run_line_magic("yj_image", "-p oa mask=a.png a cat")
    assert emulator.count(OA_IMAGES) + emulator.count(OA_EDITS) == 0


# -- videos and remix --------------------------------------------------------------------------


def test_video_card_shows_progress_then_the_video(oa: Any, emulator: Any, wire: list[Sent]) -> None:
    emulator.set_speed(20.0)
    with capture_output() as captured:
        oa.run_line_magic("yj_video", "-p oa -o v -m sora-2 duration=8 size=1280x720 a cat")
    task = oa.user_ns["v"]
    assert task.status == "SUCCEEDED" and Path(task.local_paths["video"]).is_file()
    htmls = [o.data["text/html"] for o in captured.outputs]
    assert any("<progress value=" in h for h in htmls), "progress shown while it ran"
    assert "<video controls" in htmls[-1] and "<progress" not in htmls[-1]
    assert len({o.transient["display_id"] for o in captured.outputs}) == 1
    (create,) = [s for s in wire if s.path == "/v1/videos"]
    assert create.json["seconds"] == "8" and create.json["size"] == "1280x720"
    assert "duration" not in create.json


def test_video_checks_before_sending(oa: Any, emulator: Any) -> None:
    with pytest.raises(UsageError, match=r"nothing was sent.*duration '5'.*allowed: 8") as err:
        oa.run_line_magic("yj_video", "-p oa duration=5 a cat")
    assert "\n" not in str(err.value)
    with pytest.raises(UsageError, match="first_frame: no such file"):
        oa.run_line_magic("yj_video", "-p oa -m sora-2 first_frame=nope.jpg a cat")
    assert emulator.count(OA_VIDEOS) == 0


def test_remix_a_finished_video(oa: Any, magics: Any, emulator: Any) -> None:
    oa.run_line_magic("yj_video", "-p oa -o v -m sora-2 a cat")
    source = oa.user_ns["v"]
    with capture_output() as captured:
        oa.run_line_magic("yj_video", f"-p oa -o r --remix {source.taskid} make it blue")
    remix = oa.user_ns["r"]
    assert remix.status == "SUCCEEDED" and remix.remixed_from == source.taskid
    assert remix.model == "sora-2" and remix.prompt == "make it blue"
    assert emulator.count(f"POST /v1/videos/{source.taskid}/remix") == 1
    html = last_html(captured)
    assert f"remix of <code>{source.taskid}</code>" in html and "<video controls" in html
    assert watcher_of(magics, remix).done


def test_remix_refusals_are_one_line_and_send_nothing(oa: Any, magics: Any, emulator: Any) -> None:
    emulator.set_speed(1.0)  # the source never finishes during the test
    oa.run_line_magic("yj_video", "-p oa --bg -o v -m sora-2 a cat")
    taskid = oa.user_ns["v"].taskid
    with pytest.raises(UsageError, match=r"that video is (pending|running), not finished ok"):
        oa.run_line_magic("yj_video", f"-p oa --remix {taskid} make it blue")
    with pytest.raises(UsageError, match="needs a prompt"):
        oa.run_line_magic("yj_video", "-p oa --remix video_unknown")
    with pytest.raises(UsageError, match=r"remix needs an openai or gateway profile") as err:
        oa.run_line_magic("yj_video", f"--remix {taskid} make it blue")  # the yuanjing default
    assert "uses yuanjing" in str(err.value)
    with pytest.raises(UsageError, match=r"BadRequestError.*404|not found|does not exist"):
        oa.run_line_magic("yj_video", "-p oa --remix video_unknown make it blue")
    assert emulator.count(f"POST /v1/videos/{taskid}/remix") == 0
    with capture_output():
        watcher_of(magics, oa.user_ns["v"]).cancel()


def test_images_on_a_yuanjing_profile_are_refused_before_sending(oa: Any, emulator: Any) -> None:
    Path("photo.png").write_bytes(PNG)
    with pytest.raises(UsageError) as err:
        oa.run_cell_magic("yj_chat", "images=photo.png", "What is it?")
    assert str(err.value) == (
        "nothing was sent; 1 problem: "
        "images need an openai or gateway profile; profile 'yuanjing' uses yuanjing"
    )
    with pytest.raises(UsageError, match="api='responses' needs an openai profile"):
        oa.run_cell_magic("yj_chat", "--responses", "What is it?")
    assert emulator.count(CHAT) == 0


# -- the rest of what the Yuanjing tests cover ----------------------------------------------------


def test_live_display_side_by_side_and_json(oa: Any, magics: Any) -> None:
    magics.stream_output = "display"
    shown = run(oa, "-p oa -m gpt-4o,gemini-2.5-flash", "echo: both")
    assert shown.error is None and len({o.transient["display_id"] for o in shown.outputs}) == 1
    final = shown.final["text/html"]
    assert "gpt-4o" in final and "gemini-2.5-flash" in final
    assert {m: r.text for m, r in oa.user_ns["_yj"].items()} == {
        "gpt-4o": "both",
        "gemini-2.5-flash": "both",
    }
    oa.run_cell_magic("yj_chat", "-p oa -f json", 'echo: {"a": 1}')
    assert oa.user_ns["_yj"] == {"a": 1}


def test_no_quota_is_one_line_and_nothing_is_charged(oa: Any, emulator: Any) -> None:
    emulator.set_balance(emulator.api_key, 0)
    with pytest.raises(UsageError, match=r"InsufficientBalanceError.*nothing was charged") as err:
        oa.run_line_magic("yj_video", "-p oa -o v -m sora-2 a cat")
    assert "\n" not in str(err.value) and "v" not in oa.user_ns
    with pytest.raises(UsageError, match="quota") as err:
        oa.run_cell_magic("yj_chat", "-p oa", "hello")
    assert "\n" not in str(err.value)


def test_failed_video_and_bg(oa: Any, magics: Any, emulator: Any) -> None:
    emulator.set_faults(task="fail")
    with capture_output() as captured:
        oa.run_line_magic("yj_video", "-p oa -o f -m sora-2-pro a cat")
    assert oa.user_ns["f"].status == "FAILED"
    assert "failed:</b>" in last_html(captured) and "<video" not in last_html(captured)
    emulator.set_faults()
    emulator.set_speed(1.0)
    with capture_output() as captured:
        oa.run_line_magic("yj_video", "-p oa --bg -o t a cat")
        task = oa.user_ns["t"]
        assert not task.done
        emulator.advance(300)
        watcher_of(magics, task).result(timeout=30)
    assert task.succeeded and "<video controls" in last_html(captured)
