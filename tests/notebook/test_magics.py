"""What every magic checks before anything is sent, and `--help` / `?` on every magic."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Sent
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

BAD_MODELS = ["-m ''", "-m ,", "-m ' , '"]
BAD_TIMEOUTS = ["--timeout 0", "--timeout -5", "--timeout nan", "--timeout inf", "--timeout x"]


def _run(shell: Any, name: str, line: str) -> None:
    if name == "yj_chat":
        shell.run_cell_magic(name, line, "Hello")
    else:
        shell.run_line_magic(name, f"{line} a cat on the moon")


@pytest.mark.parametrize("line", BAD_MODELS)
@pytest.mark.parametrize("name", ["yj_chat", "yj_video", "yj_image"])
def test_an_empty_model_is_a_usage_error(
    shell: Any, wire: list[Sent], name: str, line: str
) -> None:
    with pytest.raises(UsageError, match=r"^argument -m/--model: no model in '[ ,]*': give -m"):
        _run(shell, name, line)
    assert wire == []  # nothing sent, not even with the default model


@pytest.mark.parametrize("line", BAD_TIMEOUTS)
@pytest.mark.parametrize("name", ["yj_video", "yj_image"])
def test_a_timeout_must_be_positive_seconds(
    shell: Any, wire: list[Sent], name: str, line: str
) -> None:
    with pytest.raises(UsageError) as raised:
        _run(shell, name, line)
    value = line.split()[1]
    assert str(raised.value) == (
        f"argument --timeout: give a positive number of seconds, not {value!r}"
    )
    assert wire == []


def test_a_media_magic_takes_one_model(shell: Any, wire: list[Sent]) -> None:
    with pytest.raises(UsageError, match=r"-m a,b: one model at a time \(a,b only with --over"):
        _run(shell, "yj_image", "-m a,b")
    assert wire == []


def test_chat_models_around_commas_are_kept(shell: Any, magics: Any) -> None:
    magics.stream_output = "stdout"
    with capture_output():
        shell.run_cell_magic("yj_chat", "-m ' qwen3-max , '", "echo: hi")
    assert shell.user_ns["_yj"].text == "hi"


def _magic_names(shell: Any) -> list[tuple[str, str]]:
    found = {
        (name, kind)
        for kind in ("line", "cell")
        for name in shell.magics_manager.magics[kind]
        if name.startswith("yj_")
    }
    return sorted(found)


@pytest.mark.parametrize("ask", ["--help", "-h", "?", "-o t --help"])
def test_every_magic_answers_help(shell: Any, ask: str) -> None:
    names = _magic_names(shell)
    assert {name for name, _ in names} >= {
        "yj_chat", "yj_config", "yj_models", "yj_video", "yj_image", "yj_tasks", "yj_usage",
    }  # fmt: skip
    for name, kind in names:
        with capture_output() as captured:
            if kind == "cell":  # IPython refuses an empty cell before the magic runs
                shell.run_cell_magic(name, ask, "Hello")
            else:
                shell.run_line_magic(name, ask)
        assert f"%{name} [" in captured.stdout, (name, kind, captured.stdout)
        assert "options:" in captured.stdout or "positional arguments:" in captured.stdout


def test_chat_as_a_line_magic_says_where_the_prompt_goes(shell: Any, wire: list[Sent]) -> None:
    with pytest.raises(
        UsageError, match=r"^%%yj_chat takes the prompt in the cell, under %%yj_chat \[options\]$"
    ):
        shell.run_line_magic("yj_chat", "Hello")
    assert wire == []


def test_question_mark_after_the_magic_shows_its_help(shell: Any) -> None:
    with capture_output() as captured:
        shell.run_cell("%yj_tasks?")
    assert "%yj_tasks [--resume]" in captured.stdout
