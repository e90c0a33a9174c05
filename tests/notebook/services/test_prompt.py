"""`{name}` interpolation: pure rules, then through %%yj_chat in a real shell."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from IPython.core.error import UsageError

from yjnb.notebook.services.prompt import PromptError, interpolate

NS: dict[str, Any] = {
    "name": "Ada",
    "n": 3,
    "obj": SimpleNamespace(attr="A", inner=SimpleNamespace(x=1)),
    "items": ["zero", "one"],
    "d": {"key": "K", "k 2": "K2"},
    "In": ["", "first cell", "second cell"],
    "Out": {1: 42},
    "名字": "李",
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello {name}", "hello Ada"),
        ("{obj.attr} {obj.inner.x}", "A 1"),
        ("{items[0]} {items[-1]}", "zero one"),
        ("{d[key]} {d['k 2']} {d[\"key\"]}", "K K2 K"),
        ("{In[2]} / {Out[1]}", "second cell / 42"),
        ("{名字}", "李"),
        ("{{name}} is written {name}", "{name} is written Ada"),
        ("a {{ b }} c", "a { b } c"),
        ("lone {{ and }}", "lone { and }"),
        ("no braces at all", "no braces at all"),
    ],
)
def test_fields_and_escapes(text: str, expected: str) -> None:
    assert interpolate(text, NS) == expected


@pytest.mark.parametrize(
    "text",
    [
        'payload = {"a": {"b": {"c": 1}}}',
        "def f(d):\n    return {k: v for k, v in d.items()}\n",
        "{ name }",
        "function f() { return {a: 1}; }",
        "x = {1, 2}",
        "set() is not {}",
        "print('{')",
        "if (x) { y(); }}",
        "template: ${HOME} and {0} and {name!r}",
    ],
)
def test_code_and_json_pass_through(text: str) -> None:
    assert interpolate(text, NS) == text


def test_code_next_to_a_field() -> None:
    text = "Fix this for {name}:\n```js\nconst o = {a: {b: 1}};\n```"
    assert interpolate(text, NS) == text.replace("{name}", "Ada")


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("hello {nobody}", "'nobody'"),
        ("{obj.missing}", ".missing"),
        ("{items[5]}", "[5]"),
        ("{d[nokey]}", "[nokey]"),
    ],
)
def test_missing_names_are_named(text: str, named: str) -> None:
    with pytest.raises(PromptError) as err:
        interpolate(text, NS)
    message = str(err.value)
    assert named in message
    assert "--raw" in message and "\n" not in message


def test_values_are_str() -> None:
    assert interpolate("{n}{obj.inner}", NS) == "3" + str(NS["obj"].inner)


# -- through the magic -------------------------------------------------------------------------


def test_magic_fills_from_user_namespace(shell: Any, records: list[Any]) -> None:
    shell.user_ns["who"] = "Ada"
    shell.run_cell_magic("yj_chat", "--new", "echo: hi {who} {{who}}")
    assert shell.user_ns["_yj"].text == "hi Ada {who}"


def test_magic_in_and_out(shell: Any) -> None:
    shell.run_cell("6 * 7", store_history=True)
    n = shell.execution_count - 1
    shell.run_cell_magic("yj_chat", "--new", f"echo: {{Out[{n}]}} from {{In[{n}]}}")
    assert shell.user_ns["_yj"].text == "42 from 6 * 7"


def test_magic_unknown_name_is_a_one_line_usage_error(shell: Any, emulator: Any) -> None:
    before = emulator.count("POST /llmage/v1/chat/completions")
    with pytest.raises(UsageError, match="no variable named 'ghost'"):
        shell.run_cell_magic("yj_chat", "", "echo: {ghost}")
    assert emulator.count("POST /llmage/v1/chat/completions") == before  # nothing sent


def test_magic_raw_sends_braces_untouched(shell: Any) -> None:
    shell.run_cell_magic("yj_chat", "--raw", "echo: {ghost} {{x}}")
    assert shell.user_ns["_yj"].text == "{ghost} {{x}}"


def test_magic_code_with_braces_is_sent_as_written(shell: Any, records: list[Any]) -> None:
    code = 'Explain:\nd = {"a": {"b": 1}}\nreturn {k: v for k in d}\necho: ok'
    shell.run_cell_magic("yj_chat", "--new", code)
    assert records[-1].prompt == code
    assert shell.user_ns["_yj"].text == "ok"
