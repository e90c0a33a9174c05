"""%%yj_chat --over DF through a real IPython shell against the emulator: the rows and `_yj`,
a free re-run, errors before any request, the live progress display, and an interrupt."""

from __future__ import annotations

import _thread
import threading
import time
from typing import Any

import pandas as pd
import pytest
from chat_helpers import CHAT, run
from IPython.core.error import UsageError

import yjnb

PRODUCTS = ["<b>desk lamp</b>", "garden chair", "rug"]


@pytest.fixture
def products(shell: Any) -> pd.DataFrame:
    frame = pd.DataFrame({"product": PRODUCTS, "price": [25, 80, 40]})
    shell.user_ns["products"] = frame
    return frame


@pytest.fixture
def live(magics: Any) -> Any:
    """Display mode (what a Jupyter kernel gets), whatever the test shell is."""
    magics.stream_output = "display"
    return magics


def _progress(shown: Any) -> list[str]:
    """Every frame of the progress display, in order (the first one and its updates)."""
    first = shown.displays[0]
    return [o.data["text/plain"] for o in [first, *shown.updates]]


def test_a_run_over_a_frame_with_two_models_gives_every_row_in_yj_and_var(
    shell: Any, live: Any, products: pd.DataFrame, emulator: Any
) -> None:
    shown = run(
        shell, "--over products -m qwen3-max,qwen-plus --name copy -o copy", "Sell {product}."
    )
    assert shown.error is None
    exp = shell.user_ns["_yj"]
    assert isinstance(exp, yjnb.Experiment) and shell.user_ns["copy"] is exp
    frame = exp.results
    assert len(frame) == 6 and exp.status == "done" and (frame["status"] == "ok").all()
    assert frame["product"].tolist() == [p for p in PRODUCTS for _ in range(2)]
    assert frame["model"].tolist() == ["qwen3-max", "qwen-plus"] * 3
    assert emulator.count(CHAT) == 6 and exp.name == "copy"
    # The progress display, then the summary and the compare tables.
    assert len(shown.displays) == 3
    summary, compare = (d.data["text/html"] for d in shown.displays[1:])
    assert "copy: summary" in summary and "qwen-plus" in summary
    for text in frame["text"]:  # every answer, escaped
        assert text.replace("&", "&amp;").replace("'", "&#x27;")[:40] in compare
    assert "&lt;b&gt;desk lamp&lt;/b&gt;" in compare and "<b>desk" not in compare


def test_a_rerun_makes_no_request_and_refresh_calls_again(
    shell: Any, products: pd.DataFrame, emulator: Any
) -> None:
    line = "--over products -m qwen3-max,qwen-plus"
    run(shell, line, "Sell {product} at {price}.")
    first = shell.user_ns["_yj"].results
    assert emulator.count(CHAT) == 6
    shown = run(shell, line, "Sell {product} at {price}.")
    again = shell.user_ns["_yj"]
    assert emulator.count(CHAT) == 6  # nothing sent
    assert again.results["cached"].all() and again.counts["requests"] == 0
    assert again.results["text"].tolist() == first["text"].tolist()
    assert "6/6 done · 6 cached" in shown.stdout
    run(shell, line + " --refresh", "Sell {product} at {price}.")
    assert emulator.count(CHAT) == 12 and not shell.user_ns["_yj"].results["cached"].any()


@pytest.mark.parametrize(
    ("line", "cell", "said"),
    [
        ("--over nothing_here", "Sell {product}.", "no variable named 'nothing_here'"),
        ("--over products", "Sell {colour}.", "names column {colour}, which the data does not"),
        ("--over products -s 'For {shop}.'", "Sell {product}.", "system names column {shop}"),
        ("--over products -m qwen3-max temperature=9", "Sell {product}.", "temperature 9 is out"),
        ("--over products top_p=x", "Sell {product}.", "nothing was sent"),
        ("--over products --repeat 0", "Sell {product}.", "whole number, 1 or more"),
        ("--over products --concurrency x", "Sell {product}.", "whole number, 1 or more"),
        ("--over products --new", "Sell {product}.", "--new: not with --over"),
        ("--over products -f json", "Sell {product}.", "-f/--format: not with --over"),
        ("--over products -o 2x", "Sell {product}.", "not a valid variable name"),
        ("--dry-run", "Sell {product}.", "--dry-run, --refresh: only with --over DF"),
        ("--name x --repeat 2", "Sell {product}.", "--name, --repeat: only with --over DF"),
        ("--over products model=x", "Sell {product}.", "model= is set by yjnb"),
    ],
)
def test_bad_templates_and_parameters_send_nothing(
    shell: Any, products: pd.DataFrame, emulator: Any, line: str, cell: str, said: str
) -> None:
    shown = run(shell, line, cell)
    assert isinstance(shown.error, UsageError) and said in str(shown.error)
    assert "\n" not in str(shown.error)  # one line
    assert emulator.count(CHAT) == 0 and "_yj" not in shell.user_ns


def test_a_dry_run_sends_nothing_and_says_the_plan(
    shell: Any, products: pd.DataFrame, emulator: Any
) -> None:
    shown = run(
        shell, "--over products -m qwen3-max,qwen-plus --dry-run --name plan", "Hi {product}"
    )
    assert shown.error is None and emulator.count(CHAT) == 0
    exp = shell.user_ns["_yj"]
    assert exp.status == "dry_run" and exp.estimate.calls == 6
    assert "plan (dry run): 6 cells, 6 calls to make, 0 cached" in shown.stdout


def test_the_progress_display_updates_and_ends_with_the_final_counts(
    shell: Any, live: Any, emulator: Any
) -> None:
    live.refresh_interval = 0.05
    shell.user_ns["items"] = [f"item {i}" for i in range(12)]
    emulator.set_faults(latency=0.1, path="/llmage/v1/chat")
    started = time.monotonic()
    shown = run(shell, "--over items --concurrency 2 --name slow", "Say {input}")
    elapsed = time.monotonic() - started
    assert shown.error is None
    frames = _progress(shown)
    first = shown.displays[0]
    assert all(u.transient == first.transient for u in shown.updates)  # one display
    assert frames[0].startswith("slow: 0/12 done")
    assert len(frames) >= 4  # it moved while the calls ran (12 calls, 2 at a time)
    assert len(frames) <= elapsed / 0.05 + 3  # throttled to the refresh interval
    done = [int(f.split(": ")[1].split("/")[0]) for f in frames]
    assert done == sorted(done) and 0 < done[len(done) // 2] < 12
    final = frames[-1]
    assert final.startswith("slow: 12/12 done · 0 cached · 0 failed")
    assert "credits not reported" in final and "0 429s waited out" in final
    tokens = shell.user_ns["_yj"].results[["prompt_tokens", "completion_tokens"]].sum().sum()
    assert f"{tokens:,} tokens" in final
    html = shown.outputs[len(frames) - 1].data["text/html"]
    assert "slow: 12/12 done" in html


def test_a_terminal_gets_plain_text_progress(shell: Any, magics: Any, emulator: Any) -> None:
    magics.stream_output = "stdout"
    shell.user_ns["items"] = ["a", "b"]
    shown = run(shell, "--over items", "Say {input}")
    assert shown.error is None
    assert ": 2/2 done · 0 cached · 0 failed" in shown.stdout
    assert not [o for o in shown.outputs if "yjnb-experiment-progress" in str(o.data)]


def test_an_interrupt_keeps_finished_rows_and_a_rerun_finishes(
    shell: Any, live: Any, emulator: Any
) -> None:
    shell.user_ns["items"] = [f"item {i}" for i in range(40)]
    emulator.set_faults(latency=0.1, path="/llmage/v1/chat")
    timer = threading.Timer(0.6, _thread.interrupt_main)
    timer.start()
    shown = run(shell, "--over items --concurrency 2 --name cut", "Say {input}")
    timer.join()
    assert shown.error is None  # no traceback
    exp = shell.user_ns["_yj"]
    done = exp.counts["done"]
    assert exp.status == "interrupted" and 0 < done < 40
    assert f"interrupted: {done}/40 done, re-run to finish" in shown.stdout
    assert "Traceback" not in shown.stdout + shown.stderr
    frame = exp.results
    assert len(frame) == 40 and (frame["status"] == "ok").sum() == done
    assert set(frame.loc[frame["status"] != "ok", "status"]) == {"interrupted"}
    assert "interrupted" in shown.outputs[-1].data["text/plain"]
    emulator.set_faults()
    run(shell, "--over items --concurrency 2 --name cut", "Say {input}")
    rest = shell.user_ns["_yj"]
    assert rest.status == "done" and (rest.results["status"] == "ok").all()
    assert rest.results["cached"].sum() >= done
    assert emulator.count(CHAT) <= 40 + 2  # only the calls in flight can be paid twice


def test_budget_stops_the_run_cleanly_with_the_rest_skipped(
    shell: Any, products: pd.DataFrame, emulator: Any, isolated_env: Any
) -> None:
    isolated_env.mkdir(parents=True, exist_ok=True)  # qwen3-max at 1 credit a token
    (isolated_env / "prices.toml").write_text('[models."qwen3-max"]\ntokens = 1000.0\n')
    with pytest.warns(yjnb.YJWarning, match="estimate not reported"):  # no max_tokens given
        shown = run(
            shell, "--over products -m qwen3-max --concurrency 1 --budget 5", "Sell {product}."
        )
    exp = shell.user_ns["_yj"]
    statuses = exp.results["status"].tolist()
    assert exp.status == "budget" and statuses[0] == "ok" and "skipped_budget" in statuses
    assert emulator.count(CHAT) == statuses.count("ok")  # the skipped ones: never sent
    assert "skipped_budget; raise the budget" in shown.stdout
    with pytest.raises(UsageError, match="--budget: only with --over DF"):
        shell.run_cell_magic("yj_chat", "--budget 5", "hello")
