"""Numbers that are true: chat credits "not reported" (never 0), estimates marked as such, the
tokens of an interrupted answer, and plot bars over their own bucket."""

from __future__ import annotations

import _thread
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from chat_helpers import run
from IPython.utils.capture import capture_output

from yjnb._estimates import estimate_tokens
from yjnb.ledger import default_ledger

PRICES = '[models."qwen3-max"]\ninput = 2.0\noutput = 8.0\n'  # credits per 1,000 tokens


@pytest.fixture(autouse=True)
def live(magics: Any) -> Any:
    """Display mode (what a Jupyter kernel gets), whatever the test shell is."""
    magics.stream_output = "display"
    return magics


def _usage_text(shell: Any) -> str:
    with capture_output() as cap:
        shell.run_line_magic("yj_usage", "")
    return "\n".join(o.data.get("text/plain", "") for o in cap.outputs)


def test_chat_credits_are_not_reported_never_zero(shell: Any) -> None:
    shown = run(shell, "", "echo: hello there")
    footer = shown.final["text/markdown"]
    assert "credits not reported" in footer and "0 credits" not in footer
    frame = default_ledger().frame()
    assert frame["credits"].isna().all() and frame["credits_estimate"].isna().all()
    (row,) = default_ledger().rows()
    assert row["credits"] is None  # NULL in the ledger: the platform said nothing
    table = _usage_text(shell)
    assert "not reported" in table and "credits_estimate" not in table


def test_a_price_table_in_yj_home_gives_marked_estimates(shell: Any, isolated_env: Path) -> None:
    isolated_env.mkdir(parents=True, exist_ok=True)
    (isolated_env / "prices.toml").write_text(PRICES, encoding="utf-8")
    shown = run(shell, "", "echo: hello there")
    usage = shell.user_ns["_yj"].usage
    expected = (usage.prompt_tokens * 2.0 + usage.completion_tokens * 8.0) / 1000
    assert shell.user_ns["_yj"].credits_estimate == pytest.approx(expected)
    footer = shown.final["text/markdown"]
    assert f"≈{expected:.3g} credits (est.)" in footer
    (row,) = default_ledger().rows()
    assert row["credits"] is None and row["credits_estimate"] == pytest.approx(expected)
    table = _usage_text(shell)
    assert "credits_estimate" in table and f"≈{expected:.3g} est." in table
    assert "not reported" in table


def test_config_prices_win_over_the_file_and_bad_ones_are_refused(
    shell: Any, magics: Any, isolated_env: Path
) -> None:
    isolated_env.mkdir(parents=True, exist_ok=True)
    (isolated_env / "prices.toml").write_text(PRICES, encoding="utf-8")
    shell.run_line_magic("config", 'YJMagics.prices = {"qwen3-max": {"tokens": 1000.0}}')
    run(shell, "", "echo: hi")
    result = shell.user_ns["_yj"]
    assert result.credits_estimate == pytest.approx(result.usage.total_tokens * 1.0)
    with pytest.raises(Exception, match=r"prices: qwen3-max\.input must be a number"):
        magics.prices = {"qwen3-max": {"input": "cheap"}}
    assert magics.prices == {"qwen3-max": {"tokens": 1000.0}}  # the refused one is not kept


def test_an_interrupted_chat_shows_the_tokens_received_as_an_estimate(
    shell: Any, magics: Any, emulator: Any
) -> None:
    magics.refresh_interval = 0.02
    emulator.set_faults(chunk_delay=0.01, path="/llmage/v1/chat")
    timer = threading.Timer(0.4, _thread.interrupt_main)
    timer.start()
    shown = run(shell, "max_tokens=2000", "Tell me a long story")
    timer.join()
    partial = shell.user_ns["_yj"]
    assert partial.interrupted and partial.usage is None and partial.text
    received = estimate_tokens(partial.reasoning + partial.text)
    assert partial.usage_estimate.completion_tokens == received > 0
    footer = shown.final["text/markdown"]
    assert f"≈{received} tokens received (est." in footer
    assert "this call: 0 tokens" not in footer


def test_estimated_tokens_follow_the_platforms_own_count() -> None:
    # Seed 002's answer: 100 Chinese characters billed as 60 completion tokens.
    assert estimate_tokens("我" * 100) == 60
    assert estimate_tokens("four chars each" * 4) == 15 and estimate_tokens("") == 0


def test_plot_bars_cover_their_bucket(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from matplotlib.dates import date2num

    from yjnb._types import UsageRecord
    from yjnb.ledger import Ledger
    from yjnb.notebook.commands.usage import usage_figure

    ledger = Ledger(tmp_path / "ledger.sqlite")
    for minute, credits, estimate, tokens in ((31, 2.0, None, 0), (36, None, 0.5, 40)):
        at = datetime(2026, 5, 1, 16, minute, tzinfo=timezone.utc)
        ledger.record(
            UsageRecord(kind="chat", status="ok", model="m", started_at=at, credits=credits,
                        credits_estimate=estimate, total_tokens=tokens)
        )  # fmt: skip
    at = datetime(2026, 5, 1, 18, 5, tzinfo=timezone.utc)
    ledger.record(UsageRecord(kind="chat", status="ok", model="m", started_at=at, credits=1.0))
    per = ledger.timeline()  # grouped by the database, per hour: all within two days
    assert per.index.name == "hour" and list(per["tokens"]) == [40, 0]
    top, bottom = usage_figure(per).axes
    hour = 1 / 24
    for axes in (top, bottom):
        starts = sorted({round(p.get_x(), 9) for p in axes.patches})
        sixteen, eighteen = date2num(datetime(2026, 5, 1, 16)), date2num(datetime(2026, 5, 1, 18))
        assert starts == [round(sixteen, 9), round(eighteen, 9)]
        for patch in axes.patches:  # inside its own hour: 16:31 and 16:36 are in 16:00-17:00
            assert patch.get_x() + patch.get_width() <= patch.get_x() + hour
            assert patch.get_width() > 0.8 * hour
    hatched = [p for p in top.patches if p.get_hatch()]
    assert hatched and hatched[0].get_height() == 0.5 and hatched[0].get_y() == 2.0
