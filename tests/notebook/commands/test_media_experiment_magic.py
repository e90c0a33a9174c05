"""%yj_image --over DF / %yj_video --over DF through a real IPython shell against the emulator:
the template kept raw (IPython fills no `{name}` of it), the files in the notebook's media
folder, the grid, a free re-run, and every mistake refused before any request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

import yjnb

IMAGE_POST = "POST /llmage/v1/image/generations"
VIDEO_POST = "POST /llmage/v1/video/generations"
MODELS = "wan2.2-t2i-flash,cogview-3-flash"


@pytest.fixture
def animals(shell: Any, isolated_env: Path) -> pd.DataFrame:
    frame = pd.DataFrame({"animal": ["cat", "<i>owl</i>"], "style": ["ink", "oil"]})
    shell.user_ns["animals"] = frame
    shell.user_ns["animal"] = "NOT THIS"  # a notebook variable named like a column
    return frame


def test_a_line_template_runs_over_every_row_and_shows_the_grid(
    shell: Any, magics: Any, animals: pd.DataFrame, emulator: Any, isolated_env: Path
) -> None:
    magics.stream_output = "display"
    line = f'--over animals -m {MODELS} --name zoo -o zoo "a {{animal}} in {{style}}"'
    with capture_output() as shown:
        shell.run_line_magic("yj_image", line)
    run = shell.user_ns["_yj"]
    assert isinstance(run, yjnb.Experiment) and shell.user_ns["zoo"] is run
    frame = run.results
    assert (frame["status"] == "ok").all() and emulator.count(IMAGE_POST) == 4
    prompts = [c.prompt for c in run.plan.cells]
    assert prompts == ["a cat in ink"] * 2 + ["a <i>owl</i> in oil"] * 2  # the rows', raw
    media = Path.cwd() / "media"  # YJMagics.media_dir: beside the notebook
    assert all(Path(p).parent == media and Path(p).is_file() for p in frame["image_path"])
    htmls = [o.data.get("text/html", "") for o in shown.outputs]
    grid = next(h for h in htmls if "zoo: compare" in h)
    assert grid.count('<img src="data:image/jpeg;base64,') == 4
    assert "&lt;i&gt;owl&lt;/i&gt;" in grid and "<i>owl" not in grid
    assert any("zoo: summary" in h for h in htmls)
    texts = [o.data["text/plain"] for o in shown.outputs]
    plain = next(t for t in texts if "zoo: compare" in t)
    assert str(media) not in plain and Path(frame["image_path"][0]).name in plain  # names only

    with capture_output():
        shell.run_line_magic("yj_image", line)
    assert emulator.count(IMAGE_POST) == 4 and shell.user_ns["_yj"].results["cached"].all()


def test_the_cell_form_takes_the_template_from_the_body(
    shell: Any, animals: pd.DataFrame, emulator: Any
) -> None:
    with capture_output():
        shell.run_cell_magic("yj_image", "--over animals -m cogview-3-flash", "{style} {animal}\n")
    run = shell.user_ns["_yj"]
    assert [c.prompt for c in run.plan.cells] == ["ink cat", "oil <i>owl</i>"]
    assert emulator.count(IMAGE_POST) == 2


def test_a_video_experiment_from_a_cell(shell: Any, animals: pd.DataFrame, emulator: Any) -> None:
    with capture_output() as shown:
        shell.run_line_magic("yj_video", "--over animals -m viduq3-pro duration=2 {animal} runs")
    run = shell.user_ns["_yj"]
    assert run.plan.kind == "video" and (run.results["status"] == "ok").all()
    assert emulator.count(VIDEO_POST) == 2
    assert {c.params["duration"] for c in run.plan.cells} == {"2"}
    assert all(Path(p).is_file() for p in run.results["video_path"])
    assert any("▶" in o.data.get("text/html", "") for o in shown.outputs)


def test_without_over_the_line_is_still_filled_from_the_notebook(
    shell: Any, animals: pd.DataFrame, emulator: Any
) -> None:
    shell.user_ns["animal"] = "fox"
    with capture_output():
        shell.run_line_magic("yj_image", "-o t a {animal}")
    assert shell.user_ns["t"].prompt == "a fox"


def test_dry_run_shows_the_plan_and_sends_nothing(
    shell: Any, animals: pd.DataFrame, emulator: Any
) -> None:
    with capture_output() as shown:
        shell.run_line_magic("yj_image", f"--over animals -m {MODELS} --dry-run a {{animal}}")
    assert "(dry run): 4 cells, 4 calls to make" in shown.stdout
    assert sum(emulator.counts.values()) == 0


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"-m {MODELS} a cat", "one model at a time (a,b only with --over DF)"),
        ("--name zoo a cat", "--name: only with --over DF"),
        ("--over animals --bg a {animal}", "--bg: not with --over"),
        ("--over beasts a {animal}", "no variable named 'beasts'"),
        ("--over animals a {colour} {animal}", "names column {colour}"),
        ("--over animals -m qwen3-max a {animal}", "qwen3-max"),
        ("--over animals size=999x999 a {animal}", "size"),
        ("--over animals", "no template"),
    ],
)
def test_mistakes_are_one_line_before_any_request(
    shell: Any, animals: pd.DataFrame, emulator: Any, line: str, expected: str
) -> None:
    with pytest.raises(UsageError) as raised:
        shell.run_line_magic("yj_image", line)
    assert expected in str(raised.value) and "\n" not in str(raised.value)
    assert sum(emulator.counts.values()) == 0
