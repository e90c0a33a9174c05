"""%yj_config --add-profile, `-p PROFILE` in every magic, and forms on openai/gateway profiles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from chat_helpers import run
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from yjnb._config import load_profiles
from yjnb.notebook import form
from yjnb.notebook.arguments import split_words
from yjnb.notebook.services.media_request import check_request, split_params
from yjnb.notebook.widgets.forms import TaskForm
from yjnb.protocols import create

# -- %yj_config --add-profile -------------------------------------------------------------------


def test_add_an_openai_profile_and_use_it(
    shell: Any, magics: Any, emulator: Any, isolated_env: Path
) -> None:
    shown = run(
        shell,
        f"--add-profile mine --protocol openai --base-url {emulator.url}/ --key-env YJ_API_KEY",
        kind="yj_config",
    )
    assert shown.error is None
    saved = load_profiles(isolated_env)["mine"]
    assert (saved.protocol, saved.base_url, saved.key_env) == ("openai", emulator.url, "YJ_API_KEY")
    assert emulator.api_key not in (isolated_env / "config.toml").read_text()
    assert f"profile 'mine' (openai) saved in {isolated_env / 'config.toml'}" in shown.stdout
    assert "use it with -p mine" in shown.stdout
    table = shown.outputs[-1].data["text/plain"]
    assert "protocol      openai" in table and "platform" not in table
    assert "gemini-2.5-flash (openai default; %config YJMagics.model to change)" in table
    assert "veo-3.1 (openai default" in table and "nano-banana-pro (openai default" in table
    assert magics.profile == ""  # no --default: this kernel keeps its profile
    shell.run_cell_magic("yj_chat", "-p mine", "echo: it works")
    assert shell.user_ns["_yj"].text == "it works"
    assert emulator.count("POST /v1/chat/completions") == 1


def test_add_a_default_gateway_profile(
    shell: Any, magics: Any, emulator: Any, isolated_env: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("GW_KEY", emulator.api_key)
    line = (
        f"--add-profile gw2 --protocol Gateway --base-url {emulator.url} --key-env GW_KEY "
        "--platform qwen --default"
    )
    shown = run(shell, line, kind="yj_config")
    assert shown.error is None and "it is the default profile now" in shown.stdout
    assert 'default_profile = "gw2"' in (isolated_env / "config.toml").read_text()
    assert magics.profile == "gw2"
    table = shown.outputs[-1].data["text/plain"]
    assert "protocol      gateway" in table and "platform      qwen" in table
    assert "GW_KEY" in table
    shell.run_cell_magic("yj_chat", "-m qwen3-max", "echo: via qwen")  # no -p: the default now
    assert emulator.count("POST /qwen/v1/chat/completions") == 1


def test_add_a_demo_profile_and_a_legacy_alias(
    shell: Any, emulator: Any, isolated_env: Path
) -> None:
    shell.run_line_magic("yj_config", "--add-profile play --protocol openai --demo")
    shell.run_line_magic("yj_config", "--add-profile old --protocol legacy")
    profiles = load_profiles(isolated_env)
    assert profiles["play"].demo and profiles["play"].base_url == ""
    assert profiles["old"].protocol == "yuanjing-legacy"
    assert profiles["old"].base_url == "https://opencomputing.ai"
    before = emulator.count("POST /v1/chat/completions")
    shell.run_cell_magic("yj_chat", "-p play", "echo: from the embedded emulator")
    assert shell.user_ns["_yj"].text == "from the embedded emulator"
    assert emulator.count("POST /v1/chat/completions") == before  # not the test server


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ("--add-profile x --protocol grpc", "unknown protocol 'grpc'; use one of yuanjing, "),
        ("--add-profile x --protocol gateway --base-url http://a", "needs --platform P"),
        ("--add-profile x --protocol openai --base-url http://a --platform g", "for gateway"),
        ("--add-profile x --protocol openai --base-url ftp://a", "not an http"),
        ("--add-profile x --protocol openai", "an openai profile needs --base-url"),
        ("--add-profile x --protocol openai --base-url http://a --key-env sk-1", "variable name"),
        ("--add-profile 'a b' --protocol openai --base-url http://a", "Profile name 'a b'"),
        ("--add-profile x --protocol gateway --base-url http://a --platform a/b", "plain name"),
        ("--protocol openai", "--protocol goes with --add-profile NAME"),
        ("--default", "--default goes with --add-profile NAME"),
        ("--add-profile x --profile y", "not both"),
    ],
)
def test_bad_profiles_are_one_line_and_nothing_is_written(
    shell: Any, isolated_env: Path, line: str, match: str
) -> None:
    with pytest.raises(UsageError, match=match) as err:
        shell.run_line_magic("yj_config", line)
    assert "\n" not in str(err.value)
    assert not (isolated_env / "config.toml").exists()


def test_config_shows_the_profiles_protocol_and_platform(shell: Any, profiles: Path) -> None:
    text = run(shell, "-p gw", kind="yj_config").outputs[-1].data["text/plain"]
    assert "protocol      gateway" in text and "platform      google" in text
    shell.run_line_magic("config", "YJMagics.video_model = 'sora-2'")
    html = run(shell, "-p gw", kind="yj_config").outputs[-1].data["text/html"]
    assert "sora-2 (%config YJMagics.video_model)" in html  # set by the user: used as is


# -- -p in %yj_models, %yj_tasks, %yj_usage --------------------------------------------------------


def test_models_of_an_openai_profile(shell: Any, profiles: Path) -> None:
    shown = run(shell, "-p oa", kind="yj_models")
    assert shown.error is None and "openai catalog (openai)" in shown.stdout
    frame = shell.user_ns["_yj"].set_index("model")
    assert {"nano-banana-pro", "dall-e-3", "veo-3.1", "sora-2-pro", "gpt-4o"} <= set(frame.index)
    assert "qwen3-max" not in frame.index
    assert frame.loc["gpt-4o", "live"] and not frame["catalog"].isna().any()
    dalle = frame.loc["dall-e-3", "parameters"]
    assert "size: 1024x1024|1792x1024|1024x1792" in dalle
    assert "ratio (16:9) or WxH" in frame.loc["nano-banana", "parameters"]
    shown = run(shell, "-p oa t2v", kind="yj_models")
    assert set(shell.user_ns["_yj"]["model"]) == {"veo-3.1", "sora-2", "sora-2-pro"}
    assert "more live models of unknown catelog" in shown.stdout  # gpt-5, ...: not t2v rows


def test_models_of_a_gateway_platform(shell: Any, profiles: Path) -> None:
    shown = run(shell, "-p gw --platform doubao", kind="yj_models")
    assert "platform doubao" in shown.stdout
    frame = shell.user_ns["_yj"].set_index("model")
    assert frame.loc["seedream-4.0", "live"] and not frame.loc["seedream-4.0", "catalog"]
    assert not frame.loc["nano-banana-pro", "live"]  # in the catalog, not on this platform
    with pytest.raises(UsageError, match="unknown catelog 'ref2v'; known: t2t, t2i, t2v, i2v"):
        shell.run_line_magic("yj_models", "-p gw ref2v")


def test_tasks_and_usage_by_profile(shell: Any, profiles: Path) -> None:
    shell.run_line_magic("yj_image", "-p oa -o a an apple")
    shell.run_line_magic("yj_image", "-p gw -o b a pear")
    shell.run_line_magic("yj_image", "-o c a plum")  # the default (yuanjing) profile
    ns = shell.user_ns
    with capture_output() as cap:
        shell.run_line_magic("yj_tasks", "-p oa")
    html = cap.outputs[-1].data["text/html"]
    assert ns["a"].taskid in html and ns["b"].taskid not in html and ns["c"].taskid not in html
    assert "<th style='text-align:left'>profile</th>" not in html  # one profile: no column
    with capture_output() as cap:
        shell.run_line_magic("yj_tasks", "")
    html = cap.outputs[-1].data["text/html"]
    assert all(ns[k].taskid in html for k in "abc")
    assert "<th style='text-align:left'>profile</th>" in html
    assert "<td style='text-align:left'>gw</td>" in html
    with capture_output() as cap:
        shell.run_line_magic("yj_tasks", "-p gwo")
    assert "no tasks yet for profile 'gwo'" in cap.outputs[-1].data["text/plain"]
    with pytest.raises(UsageError, match="Unknown profile 'nope'"):
        shell.run_line_magic("yj_tasks", "-p nope")
    for name in "ab":  # one task: the card from the ledger and the service
        with capture_output() as cap:
            shell.run_line_magic("yj_tasks", ns[name].taskid)
        html = cap.outputs[0].data["text/html"]
        assert ">ok</span>" in html and "<img" not in html
        assert "image/png" in cap.outputs[1].data  # the image, embedded beside the card

    shell.run_cell_magic("yj_chat", "-p oa", "echo: hi")
    with capture_output() as cap:
        shell.run_line_magic("yj_usage", "-p oa --by profile")
    table = cap.outputs[-1].data["text/plain"]
    assert "oa" in table and "gw" not in table and "yuanjing" not in table
    with capture_output() as cap:
        shell.run_line_magic("yj_usage", "-p gwo")
    assert "No calls recorded for profile 'gwo'" in cap.stdout


def test_tasks_resume_only_one_profile(
    shell: Any, magics: Any, profiles: Path, emulator: Any
) -> None:
    from media_helpers import watcher_of

    emulator.set_speed(1.0)
    shell.run_line_magic("yj_video", "-p oa --bg -o a -m sora-2 a cat")
    shell.run_line_magic("yj_video", "-p gw --bg -o b a dog")
    with capture_output():
        for name in "ab":
            watcher_of(magics, shell.user_ns[name]).cancel()
    with capture_output() as cap:
        shell.run_line_magic("yj_tasks", "--resume -p gw")
    assert "following 1 unfinished task" in cap.stdout
    resumed = watcher_of(magics, shell.user_ns["b"])
    assert resumed.task is not shell.user_ns["b"] and resumed.task.platform == "google"
    emulator.advance(200)
    task = resumed.result(timeout=30)
    assert task.succeeded and Path(task.local_paths["video"]).is_file()


# -- forms ----------------------------------------------------------------------------------------

OA = create("openai")
OPENAI_MEDIA = [s for s in OA.catalog.specs() if s.catelog != "t2t"]


def test_the_magic_with_no_prompt_shows_the_openai_form(shell: Any, profiles: Path) -> None:
    shell.run_line_magic("yj_video", "-p oa -o f")
    f = shell.user_ns["f"]
    assert isinstance(f, TaskForm) and f.catalog.name == "openai"
    assert f.model.value == "veo-3.1" and list(f.model.options) == [
        "veo-3.1",
        "sora-2",
        "sora-2-pro",
    ]
    assert [v for _, v in f.catelog.options] == ["t2v", "i2v"]
    shell.run_line_magic("yj_image", "-p gw -o f -m dall-e-3 quality=hd")
    f = shell.user_ns["f"]
    assert f.fields["quality"].input.value == "hd"
    assert "nano-banana-pro" in f.model.options and "wan2.2-t2i-flash" not in f.model.options


@pytest.mark.parametrize("s", OPENAI_MEDIA, ids=lambda s: f"{s.id}-{s.catelog}")
def test_a_form_for_every_openai_model(s: Any, shell: Any, magics: Any, profiles: Path) -> None:
    kind = "image" if s.catelog == "t2i" else "video"
    f = form(kind, session=magics.session, profile="oa")
    f.catelog.value = s.catelog
    f.model.value = s.id
    assert list(f.fields) == [p.name for p in s.params]
    f.prompt.value = "a cat on the moon"
    required = any(p.required for p in s.params)
    assert f.submit_button.disabled == required
    if required:
        return
    for p in s.params:  # a non-default value where there is a choice
        if p.choices and len(p.choices) > 1:
            f.fields[p.name].input.value = next(c for c in p.choices if c != p.default)
    assert not f.problems()
    line = f.magic_line()
    assert line.startswith(f"%yj_{kind} -m {s.id} -p oa ")
    words = split_words(line.split(" ", 1)[1])[4:]  # as the magic splits it, minus -m and -p
    params, prompt = split_params(kind, s.id, words, catalog=OA.catalog)
    theirs = check_request(OA, "oa", kind, s.id, " ".join(prompt), params).request
    ours = f.payload()
    assert (ours.catelog, ours.prompt, ours.fields) == (
        theirs.catelog,
        theirs.prompt,
        theirs.fields,
    )


def test_form_submit_on_a_gateway_profile(magics: Any, profiles: Path, emulator: Any) -> None:
    f = form("video", session=magics.session, profile="gw")
    f.prompt.value = "a boat"
    f.copy_button.value = True
    assert f.magic_text.value == "%yj_video -m veo-3.1 -p gw 'a boat'"
    watcher = f.submit()
    task = watcher.result(timeout=30)
    assert task.succeeded and task.platform == "google" and task.model == "veo-3.1"
    assert "<video controls" in watcher.card.render_html()
    assert emulator.count("POST /google/v1/videos") == 1
