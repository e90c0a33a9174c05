"""Image and video experiments against the emulator (a real HTTP server on loopback): tasks
held in the cache the moment they exist, resumed rather than bought twice, files saved, and
`compare()` shown as a grid of images. Submissions are counted by the emulator itself.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import yjnb
from yjnb._magic import media_type
from yjnb.scorers import judge

IMAGE = "POST /llmage/v1/image/generations"
VIDEO = "POST /llmage/v1/video/generations"
IMAGE_MODELS = ["wan2.2-t2i-flash", "cogview-3-flash"]  # 2 and 1 credits an image
PROMPTS = {"plain": "a {animal}", "oil": "a {animal}, oil painting"}


def animals(n: int = 3) -> pd.DataFrame:
    names = ["cat", "<script>alert(1)</script>", "owl", "fox", "elk", "yak"]
    return pd.DataFrame({"animal": names[:n]})


def run_images(client: yjnb.Client, **kw: Any) -> yjnb.Experiment:
    return yjnb.experiment(animals(), PROMPTS, IMAGE_MODELS, client=client, name="zoo", **kw)


def test_an_image_experiment_saves_every_image_and_a_rerun_submits_nothing(
    emulator: Any, client: yjnb.Client, isolated_env: Path, records: list[Any]
) -> None:
    run = run_images(client)
    frame = run.results
    assert len(frame) == 12 and run.plan.kind == "image"
    assert (frame["status"] == "ok").all(), frame["error"].tolist()
    assert [c for c in frame.columns if c in ("taskid", "image_path")] == ["taskid", "image_path"]
    assert "video_path" not in frame and frame["text"].isna().all()
    assert emulator.count(IMAGE) == 12 and frame["taskid"].nunique() == 12
    for path in frame["image_path"]:
        assert Path(path).parent == isolated_env / "media"
        assert media_type(Path(path).read_bytes()[:64]) is not None  # a real image, by its bytes
    credits = frame.groupby("model")["credits"].sum().to_dict()
    assert credits == {"wan2.2-t2i-flash": 12.0, "cogview-3-flash": 6.0}  # the platform's own
    summary = run.summary().set_index("model")
    assert summary.loc["wan2.2-t2i-flash", "credits"].sum() == 12.0
    assert summary["prompt_tokens"].isna().all()  # not reported for these tasks: never 0
    tagged = {r.taskid for r in records if r.kind == "image" and r.experiment == "zoo"}
    assert tagged == set(frame["taskid"])  # every task's ledger row names the experiment

    again = run_images(client)
    assert emulator.count(IMAGE) == 12 and again.counts["requests"] == 0
    assert again.results["cached"].all()
    assert again.results["image_path"].tolist() == frame["image_path"].tolist()


def test_compare_is_a_dataframe_shown_as_a_grid_of_escaped_thumbnails(
    emulator: Any, client: yjnb.Client, isolated_env: Path
) -> None:
    grid = run_images(client).compare()
    assert isinstance(grid, pd.DataFrame) and grid.shape == (3, 1 + 4)
    assert list(grid.columns[1:]) == [(p, m) for p in PROMPTS for m in IMAGE_MODELS]
    assert Path(grid.iloc[0, 1]).is_file()  # the cells are the files' paths
    html = grid._repr_html_()
    assert html.count('<img src="data:image/jpeg;base64,') == 12
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "plain · wan2.2-t2i-flash" in html
    plain = grid.iloc[:2]
    assert type(plain) is pd.DataFrame  # a slice is an ordinary frame
    Path(grid.iloc[0, 1]).unlink()
    assert "(file missing)" in grid._repr_html_()


def test_a_task_past_its_wait_is_held_and_a_rerun_waits_for_it_without_buying_it_again(
    emulator: Any, client: yjnb.Client, isolated_env: Path, records: list[Any]
) -> None:
    emulator.set_speed(5.0)  # an image takes ~2 s; the first run waits 0.2 s for each
    first = run_images(client, timeout=0.2)
    frame = first.results
    assert set(frame["status"]) == {"interrupted"} and emulator.count(IMAGE) == 12
    assert frame["error"].str.contains("still running after 0.2 s: re-run to wait again").all()
    emulator.set_speed(200.0)
    second = run_images(client)
    assert (second.results["status"] == "ok").all()
    assert emulator.count(IMAGE) == 12  # the held tasks were waited for, none bought twice
    assert second.counts["requests"] == 0
    assert sorted(second.results["taskid"]) == sorted(f"{t}" for t in frame["taskid"].dropna())
    ends = [r for r in records if r.kind == "image" and r.status == "ok"]
    assert len({r.taskid for r in ends}) == 12


def test_a_failed_task_is_not_cached_and_retry_failed_submits_it_again(
    emulator: Any, client: yjnb.Client, isolated_env: Path
) -> None:
    emulator.set_faults(task="fail")
    run = yjnb.experiment(["cat", "owl"], "a {input}", "wan2.2-t2i-flash", client=client)
    assert set(run.results["status"]) == {"failed"} and emulator.count(IMAGE) == 2
    assert run.results["error"].str.contains("failed").all()
    emulator.set_faults()
    run.retry_failed()
    assert (run.results["status"] == "ok").all() and emulator.count(IMAGE) == 4


def test_a_killed_process_resumes_its_held_tasks(
    emulator: Any, client_kwargs: dict[str, Any], isolated_env: Path, run_then_kill: Any
) -> None:
    emulator.set_speed(20.0)  # an image takes ~0.5 s: the kill lands while tasks run
    script = (
        "import sys, yjnb\n"
        "data = [f'animal {i}' for i in range(8)]\n"
        f"yjnb.experiment(data, 'a {{input}}', {IMAGE_MODELS!r}, name='zoo', concurrency=2,"
        " client=yjnb.Client(api_key=sys.argv[1], base_url=sys.argv[2]))\n"
    )
    # SIGKILL once tasks are submitted (and held), before they are all saved
    run_then_kill(script, [emulator.api_key, emulator.url], lambda: emulator.count(IMAGE) >= 5)
    sent = emulator.count(IMAGE)
    data = [f"animal {i}" for i in range(8)]
    client = yjnb.Client(**client_kwargs)
    run = yjnb.experiment(data, "a {input}", IMAGE_MODELS, name="zoo", concurrency=2, client=client)
    assert (run.results["status"] == "ok").all()
    assert emulator.count(IMAGE) <= 16 + 2  # at most the submissions in flight twice
    assert run.counts["requests"] <= 16 - sent + 2  # the held tasks were not sent again
    assert run.counts["requests"] < 16 - run.counts["cached"]


def test_a_video_experiment_keeps_the_video_and_its_cover(
    emulator: Any, client: yjnb.Client, isolated_env: Path
) -> None:
    run = yjnb.experiment(["a red kite"], "{input}", ["viduq3-pro"], client=client, name="kites")
    frame = run.results
    assert run.plan.kind == "video" and (frame["status"] == "ok").all()
    assert emulator.count(VIDEO) == 1
    row = frame.iloc[0]
    assert Path(row["video_path"]).is_file() and Path(row["cover_path"]).is_file()
    assert row["credits"] > 0
    html = run.compare()._repr_html_()
    assert html.count('<img src="data:image/jpeg;base64,') == 1  # the cover, not the video
    assert f"▶ {Path(row['video_path']).name}" in html and "data:video" not in html


def test_scorers_of_a_media_run_get_the_files_path(
    emulator: Any, client: yjnb.Client, isolated_env: Path
) -> None:
    def png(path: str, row: dict[str, Any]) -> bool:
        return Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    run = yjnb.experiment(
        ["cat"], "a {input}", "wan2.2-t2i-flash", client=client, scorers={"png": png}
    )
    assert run.results["png"].tolist() == [True]


def test_a_credit_budget_stops_a_media_run_on_the_platforms_credits(
    emulator: Any, client: yjnb.Client, isolated_env: Path
) -> None:
    with (
        pytest.warns(yjnb.YJWarning, match="counted on them as tasks finish"),
        pytest.warns(yjnb.YJWarning, match="stopped, budget reached: 4 of 3 credits spent"),
    ):
        run = yjnb.experiment(
            [f"animal {i}" for i in range(5)], "a {input}", "wan2.2-t2i-flash", client=client,
            concurrency=1, budget=3,
        )  # fmt: skip
    statuses = run.results["status"].tolist()
    assert statuses == ["ok", "ok", "skipped_budget", "skipped_budget", "skipped_budget"]
    assert emulator.count(IMAGE) == 2 and run.status == "budget"


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"models": ["qwen3-max", "wan2.2-t2i-flash"]}, "one kind of model, not a mix"),
        ({"models": ["wan2.2-t2i-flash", "viduq3-pro"]}, "wan2.2-t2i-flash (image); viduq3-pro"),
        ({"system": "be nice"}, "image models take no system prompt"),
        ({"scorers": {"j": judge("qwen3-max", "is it nice?")}}, "a judge reads text"),
        ({"params": {"size": "999x999"}}, "size"),
        ({"kind": "audio"}, "kind='audio': use one of chat, image, video"),
        ({"timeout": 0}, "timeout must be a number of seconds above 0"),
    ],
)
def test_media_plans_are_checked_before_any_request(
    emulator: Any, client: yjnb.Client, isolated_env: Path, kw: dict[str, Any], expected: str
) -> None:
    options = {"models": ["wan2.2-t2i-flash"], **kw}
    with pytest.raises(yjnb.ValidationError, match=re.escape(expected)):
        yjnb.experiment(["cat"], "a {input}", options.pop("models"), client=client, **options)
    assert sum(emulator.counts.values()) == 0


def test_kind_runs_a_model_the_catalog_does_not_know_as_images(
    emulator: Any, client: yjnb.Client, isolated_env: Path
) -> None:
    with pytest.warns(yjnb.YJWarning):  # the catalog does not know it: sent as given
        run = yjnb.experiment(["cat"], "a {input}", "my-image-model", kind="image", client=client)
    assert run.plan.kind == "image" and emulator.count(IMAGE) == 1


def test_openai_style_images_and_videos_run_as_experiments_too(
    emulator: Any, client_kwargs: dict[str, Any], isolated_env: Path
) -> None:
    client = yjnb.Client(**client_kwargs, protocol="openai")
    models = ["dall-e-3", "nano-banana"]
    images = yjnb.experiment(["cat", "owl"], "a {input}", models, client=client)
    frame = images.results
    assert (frame["status"] == "ok").all() and emulator.count("POST /v1/images/generations") == 4
    assert all(Path(p).is_file() for p in frame["image_path"])  # came inline, saved on arrival
    assert (frame["prompt_tokens"] > 0).all()  # the Images API reports tokens, not credits
    videos = yjnb.experiment(["a kite"], "{input}", "sora-2", client=client)
    assert videos.plan.kind == "video" and videos.results["status"].tolist() == ["ok"]
    assert Path(videos.results["video_path"].iloc[0]).is_file()
    assert "no file" not in videos.compare()._repr_html_()  # no cover: the file's name shows


def test_an_interrupt_keeps_the_tasks_and_a_rerun_waits_for_them(
    emulator: Any,
    client: yjnb.Client,
    isolated_env: Path,
    interrupt_main_soon: Any,
) -> None:
    emulator.set_speed(10.0)  # an image takes ~0.9 s: the interrupt lands while they run
    interrupt_main_soon(0.5)
    with pytest.warns(yjnb.YJWarning, match="re-run to finish"):
        first = run_images(client)
    sent = emulator.count(IMAGE)
    assert first.status == "interrupted" and sent > 0
    assert (first.results["status"] == "interrupted").all()  # all were still running
    emulator.set_speed(200.0)
    second = run_images(client)
    assert (second.results["status"] == "ok").all()
    assert emulator.count(IMAGE) == 12  # the interrupted tasks were waited for, not re-bought
    assert second.counts["requests"] == 12 - sent
