"""The task card: escaping, safe URLs, local sources, hostile server paths, in-place updates."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

from IPython.utils.capture import capture_output

if __package__:  # tests/notebook as a package or as a rootdir-inserted folder
    from ..media_helpers import last_html
else:
    from media_helpers import last_html

from yjnb._runner import get_runner
from yjnb._types import Task
from yjnb.notebook.services.tasks import Watcher
from yjnb.notebook.views.task_card import TaskCard, local_src

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


class Sink:
    live = False

    def __init__(self) -> None:
        self.shown: list[dict[str, str]] = []
        self.updates: list[dict[str, str]] = []

    def enter_worker(self) -> None:
        pass

    def show(self, bundle: dict[str, str]) -> None:
        self.shown.append(bundle)

    def update(self, bundle: dict[str, str]) -> None:
        self.updates.append(bundle)


def _tags(html: str) -> set[str]:
    return {m.lower() for m in re.findall(r"<\s*([a-zA-Z]+)", html)}


def test_prompt_and_server_strings_are_escaped() -> None:
    task = Task(
        taskid="<i>id</i>",
        status="FAILED",
        model="m'><script>alert(1)</script>",
        catelog="t2v",
        prompt="<script>alert('prompt')</script> a cat",
        error="<img src=x onerror=alert(1)>",
    )
    html = TaskCard(Sink(), task).render_html()
    assert _tags(html) <= {"div", "b", "span", "code"}
    assert "&lt;script&gt;alert(&#x27;prompt&#x27;)&lt;/script&gt; a cat" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "m&#x27;&gt;&lt;script&gt;" in html and "&lt;i&gt;id&lt;/i&gt;" in html


def test_script_prompt_through_the_magic_is_escaped(ip: Any, emulator: Any) -> None:
    with capture_output() as captured:
        ip.run_line_magic("yj_image", "-o t '<script>alert(1)</script>'")
    html = last_html(captured)
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_only_http_or_relative_urls_go_into_src() -> None:
    task = Task(
        taskid="t1",
        status="SUCCEEDED",
        video_url="javascript:alert(1)",
        image_url="data:text/html,<script>alert(1)</script>",
    )
    html = TaskCard(Sink(), task).render_html()
    assert "javascript:" not in html and "data:" not in html and "<video" not in html
    task.video_url = "https://cdn.example.com/v.mp4?a=1&b='x'"
    html = TaskCard(Sink(), task).render_html()
    assert "src='https://cdn.example.com/v.mp4?a=1&amp;b=&#x27;x&#x27;'" in html


def test_local_files_relative_under_the_notebook_else_embedded_image_or_url(
    tmp_path: Path,
) -> None:
    inside = tmp_path / "media dir" / "t1.png"
    inside.parent.mkdir()
    inside.write_bytes(PNG)
    assert local_src(inside) == "media%20dir/t1.png"
    outside = tmp_path.parent / f"{tmp_path.name}-elsewhere" / "t2.png"
    outside.parent.mkdir(exist_ok=True)
    outside.write_bytes(PNG)
    assert local_src(outside) is None

    image = Task(taskid="t2", status="SUCCEEDED", kind="image", image_url="http://h/i.png")
    image.local_paths["image"] = str(outside)
    html = TaskCard(Sink(), image).render_html()
    assert "src='data:image/png;base64," in html  # made by yjnb from the saved file

    video = Task(taskid="t3", status="SUCCEEDED", video_url="http://h/v.mp4", image_url=None)
    video.local_paths["video"] = str(outside.with_suffix(".mp4"))
    html = TaskCard(Sink(), video).render_html()
    assert "src='http://h/v.mp4'" in html and "base64" not in html  # never embedded video


def test_card_publishes_only_changes_then_the_final_state() -> None:
    sink = Sink()
    task = Task(taskid="t1", status="CREATED", model="viduq3-pro", prompt="a cat")
    card = TaskCard(sink, task)
    card.show()
    card.refresh()
    card.refresh()
    assert len(sink.shown) == 1 and sink.updates == []
    task.status = "RUNNING"
    card.refresh()
    assert len(sink.updates) == 1 and " running " in sink.updates[-1]["text/plain"]
    card.refresh(force=True)
    assert len(sink.updates) == 2


def test_downloaded_names_are_made_by_yjnb_even_from_hostile_paths(
    ip: Any, magics: Any, emulator: Any, tmp_path: Path
) -> None:
    ip.run_line_magic("yj_video", "-o t a cat")
    real = ip.user_ns["t"]
    hostile = Task(
        taskid="../../../../tmp/evil/../x",
        status="SUCCEEDED",
        video_url=real.video_url + "&name=../../../../tmp/evil.mp4",
        image_url=real.image_url + "&file=/etc/passwd",
    )
    folder = tmp_path / "saved"
    card = TaskCard(Sink(), hostile)
    watcher = Watcher(magics.session.client(), hostile, card, timeout=5, save_dir=folder)
    get_runner().run(watcher._save())
    saved = sorted(p.name for p in folder.iterdir())
    assert saved == ["____________tmp_evil____x-cover.jpg", "____________tmp_evil____x.mp4"]
    assert all(Path(p).parent == folder for p in hostile.local_paths.values())
    assert not Path("/tmp/evil.mp4").exists()
