"""What `yjnb.experiment` refuses before any request, and how it reads its inputs."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import yjnb
from yjnb._templates import field_names

CHAT = "POST /llmage/v1/chat/completions"


def refused(client: yjnb.Client, *args: Any, **kw: Any) -> str:
    with pytest.raises(yjnb.ValidationError) as caught:
        yjnb.experiment(*args, client=client, **kw)
    assert "\n" not in str(caught.value)
    return str(caught.value)


def test_a_template_naming_a_missing_column_names_it_and_lists_the_columns(
    client: yjnb.Client, emulator: Any
) -> None:
    data = pd.DataFrame({"product": ["lamp"], "price": [3]})
    message = refused(
        client, data, {"a": "Sell {product} for {cost}", "b": "{{literal}} {prodcut}"},
        system="You sell {shop}.",
    )  # fmt: skip
    assert "prompt 'a' names column {cost}" in message
    assert "prompt 'b' names column {prodcut}" in message and "{literal}" not in message
    assert "system names column {shop}" in message
    assert "columns: product, price" in message
    assert emulator.count(CHAT) == 0


def test_bad_params_for_every_model_are_reported_at_once(
    client: yjnb.Client, emulator: Any
) -> None:
    message = refused(
        client, ["x"], "Say {input}", ["qwen3-max", "qwen-plus"],
        params={"qwen3-max": {"temperature": 5}, "qwen-plus": {"top_p": -1}},
    )  # fmt: skip
    assert message.startswith("qwen3-max: temperature")
    assert "qwen-plus: top_p" in message
    message = refused(client, ["x"], "Say {input}", ["qwen3-max", "qwen-plus"],
                      params={"max_tokens": 0})  # fmt: skip
    assert "qwen3-max: max_tokens" in message and "qwen-plus: max_tokens" in message
    assert emulator.count(CHAT) == 0


def test_a_field_that_fails_on_a_row_and_an_empty_prompt_are_refused(
    client: yjnb.Client, emulator: Any
) -> None:
    rows = [{"tags": ["a", "b"], "note": "x"}, {"tags": [], "note": "  "}]
    message = refused(client, rows, {"first": "{tags[0]}", "note": "{note}"})
    assert "row 1, prompt 'first': {tags[0]}" in message and "IndexError" in message
    assert "row 1, prompt 'note': prompt is empty" in message
    assert "row 0" not in message and emulator.count(CHAT) == 0


def test_bad_budgets_are_refused_before_any_request(client: yjnb.Client, emulator: Any) -> None:
    assert "budget must be a number of credits above 0; got 0" in refused(
        client, ["x"], "{input}", budget=0
    )
    assert "budget_tokens must be a number of tokens above 0; got 'ten'" in refused(
        client, ["x"], "{input}", budget_tokens="ten"
    )
    assert "not both" in refused(client, ["x"], "{input}", budget=5, budget_tokens=5)
    # Chat credits are counted from the price table: without a price there is no count.
    message = refused(client, ["x"], "{input}", "qwen-plus", budget=5)
    assert "budget=5 credits: no price for qwen-plus" in message and "budget_tokens=" in message
    assert emulator.count(CHAT) == 0


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"repeat": 0}, "repeat must be a whole number"),
        ({"concurrency": 0}, "concurrency must be a whole number"),
        ({"scorers": {"text": len}}, "scorer 'text' would hide the column"),
        ({"scorers": {"s": "len"}}, "scorer 's' is not callable"),
        ({"scorers": [len]}, "scorers must be a dict"),
        ({"name": " "}, "name must be a non-empty string"),
    ],
)
def test_bad_options_are_refused(client: yjnb.Client, kw: dict[str, Any], expected: str) -> None:
    assert expected in refused(client, ["x"], "{input}", **kw)


@pytest.mark.parametrize(
    ("data", "expected"),
    [("text", "data must be a DataFrame"), ([1, 2], "only dicts"), ([], None)],
)
def test_data_shapes(client: yjnb.Client, data: Any, expected: str | None) -> None:
    if expected is None:
        run = yjnb.experiment(data, "hi", client=client, dry_run=True)
        assert run.estimate is not None and run.estimate.calls == 0
    else:
        assert expected in refused(client, data, "{input}")


def test_rows_fill_templates_like_the_chat_magic(client: yjnb.Client) -> None:
    rows = [{"p": {"name": "lamp"}, "tags": ["new"], "n": 2}]
    run = yjnb.experiment(
        rows, "{p[name]} {tags[0]} {{n}} {n} {\"json\": 1} ${HOME}", "qwen3-max",
        system="{n} words", repeat=2, client=client, dry_run=True,
    )  # fmt: skip
    cells = run.plan.cells
    assert [c.sample for c in cells] == [0, 1] and cells[0].key != cells[1].key
    assert cells[0].chat.prompt == 'lamp new {n} 2 {"json": 1} ${HOME}'
    assert cells[0].chat.system == "2 words"
    assert field_names("{a.b} {{c}} {d[0]} ${e} {a}") == ["a", "d"]


def test_the_cache_key_depends_on_what_decides_the_answer(client: yjnb.Client) -> None:
    def key(**kw: Any) -> str:
        options: dict[str, Any] = {"system": None, "params": None, **kw}
        run = yjnb.experiment(["x"], "Say {input}", "qwen3-max", client=client, dry_run=True,
                              **options)  # fmt: skip
        return run.plan.cells[0].key

    base = key()
    assert base == key(name="another name")  # the name is a label, not the call
    assert len({base, key(system="s"), key(params={"temperature": 0.5})}) == 3
    other = yjnb.Client(api_key="another-key", base_url=client.base_url)
    same = yjnb.experiment(["x"], "Say {input}", "qwen3-max", client=other, dry_run=True)
    assert same.plan.cells[0].key == base  # the key is never part of it


def test_an_unknown_parameter_warns_once(client: yjnb.Client) -> None:
    with pytest.warns(yjnb.YJWarning) as caught:
        yjnb.experiment(["a", "b", "c"], "{input}", "qwen3-max", client=client, dry_run=True,
                        params={"frobnicate": 1})  # fmt: skip
    assert len(caught) == 1 and "frobnicate" in str(caught[0].message)
    assert caught[0].filename == __file__  # the user's line


def test_the_cache_keys_of_earlier_caches_stay_as_they_were() -> None:
    """A key is the SHA-256 of `json.dumps(..., ensure_ascii=False, sort_keys=True,
    default=repr)` of the call: answers cached by earlier versions are found again."""
    import hashlib
    import json

    from yjnb._experiment_cache import cache_key

    params = {"temperature": 0.5, "max_tokens": 20, "stop": ["。"], "odd": frozenset({3})}
    for kind, system in (("chat", None), ("chat", "你是助手"), ("image", None)):
        what = ["yuanjing", "https://x/", "qwen3-max", system, "讲个笑话", params, 3]
        material = json.dumps(
            what[:1] + ["https://x"] + what[2:] + ([] if kind == "chat" else [kind]),
            ensure_ascii=False, sort_keys=True, default=repr,
        )  # fmt: skip
        expected = hashlib.sha256(material.encode("utf-8")).hexdigest()
        got = cache_key(
            protocol="yuanjing", base_url="https://x/", model="qwen3-max", system=system,
            prompt="讲个笑话", params=params, sample=3, kind=kind,
        )  # fmt: skip
        assert got == expected
