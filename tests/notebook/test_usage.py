"""%yj_usage, the credit budgets and the usage line, through a real shell and the emulator."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

import yjnb
from yjnb._types import UsageRecord
from yjnb.ledger import default_ledger, session_totals
from yjnb.notebook.usage import check_budget, usage_line

VIDEO = {"model": "viduq3-pro", "duration": 1}  # 25 credits on the emulator


def spend_video(magics: Any) -> float:
    task = magics.client().video("a cat on the moon", **VIDEO)
    assert task.credits == 25.0
    return float(task.credits)


def other_kernel_spends(credits: float) -> None:
    """A row written by another process: in today's total, not in this session's."""
    default_ledger().record(
        UsageRecord(
            kind="video",
            status="ok",
            model="viduq3-pro",
            taskid=f"elsewhere-{credits}",
            credits=credits,
            started_at=datetime.now(timezone.utc),
        )
    )


def budget(magics: Any, force: bool = False) -> str:
    with capture_output() as cap:
        check_budget(magics, force=force)
    return cap.stdout + cap.stderr


# -- budgets ----------------------------------------------------------------------------------


def test_no_budget_is_a_no_op(magics: Any) -> None:
    spend_video(magics)
    assert budget(magics) == ""


def test_daily_budget_warns_at_80_percent_then_refuses(magics: Any) -> None:
    magics.budget_credits = 30
    assert budget(magics) == ""
    spend_video(magics)  # 25 of 30: 83 %
    warning = budget(magics)
    assert warning.count("\n") == 1
    assert "83% of the credit budget used" in warning
    assert "25 of 30 credits spent today (UTC)" in warning
    assert "YJMagics.budget_credits" in warning
    assert budget(magics) == "", "warned once per threshold"

    spend_video(magics)  # 50 of 30
    with pytest.raises(UsageError) as info:
        budget(magics)
    message = str(info.value)
    assert "\n" not in message
    assert "50 of 30 credits spent today (UTC)" in message
    assert "%config YJMagics.budget_credits = 60" in message
    assert "--force" in message

    forced = budget(magics, force=True)
    assert "running anyway (--force)" in forced

    magics.budget_credits = 100  # raised as told: calls go through again, silently
    assert budget(magics) == ""


def test_daily_budget_counts_every_kernel_session_budget_only_this_one(magics: Any) -> None:
    other_kernel_spends(40)
    magics.session_budget_credits = 30
    assert budget(magics) == ""  # the other kernel's 40 are not this session's
    magics.budget_credits = 40
    with pytest.raises(UsageError, match="40 of 40 credits spent today"):
        budget(magics)
    magics.budget_credits = 0
    spend_video(magics)
    assert session_totals().credits == 25.0
    assert "83% of the credit budget used (25 of 30 credits spent this session" in budget(magics)
    spend_video(magics)
    with pytest.raises(UsageError, match=r"session_budget_credits = 60"):
        budget(magics)


def test_a_task_counts_once_in_the_session(magics: Any) -> None:
    client = magics.client()
    task = client.video("a cat", wait=False, **VIDEO)
    client.wait(task)
    client.wait(task.taskid)  # waiting again reports the same task again
    totals = session_totals()
    assert (totals.calls, totals.credits) == (1, 25.0)


def test_budgets_are_off_with_the_ledger(magics: Any) -> None:
    magics.budget_credits = 1
    magics.session_budget_credits = 1
    magics.ledger = False
    spend_video(magics)
    other_kernel_spends(100)
    assert budget(magics) == ""
    assert usage_line("video", credits=25) == ""


# -- the ledger switches through %config --------------------------------------------------------


def test_config_ledger_off_records_nothing(shell: Any, magics: Any) -> None:
    shell.run_line_magic("config", "YJMagics.ledger = False")
    magics.client().chat("hello")
    assert len(default_ledger()) == 0
    shell.run_line_magic("config", "YJMagics.ledger = True")
    magics.client().chat("hello")
    assert len(default_ledger()) == 1


def test_config_prompts_off(shell: Any, magics: Any) -> None:
    shell.run_line_magic("config", "YJMagics.ledger_prompts = False")
    magics.client().chat("my secret question", system="my secret system")
    (row,) = default_ledger().rows()
    assert row["prompt"] is None and "system" not in row["params"]
    assert row["total_tokens"] > 0
    data = b"".join(p.read_bytes() for p in default_ledger().path.parent.glob("ledger.sqlite*"))
    assert b"my secret" not in data


# -- the usage line ---------------------------------------------------------------------------


def test_usage_line_after_real_calls(magics: Any) -> None:
    answer = magics.client().chat("你是谁")
    n = answer.usage.total_tokens
    assert usage_line("chat", tokens=n) == (
        f"this call: {n:,} tokens · today: 1 call, {n:,} tokens, 0 credits"
    )
    spend_video(magics)
    assert usage_line("video", credits=25.0) == (
        f"this call: 25 credits · today: 2 calls, {n:,} tokens, 25 credits"
    )
    other_kernel_spends(1234.5)
    assert usage_line("video").endswith("today: 3 calls, " + f"{n:,} tokens, 1,259.5 credits")
    # A task whose usage has no credits (a failed one, say) does not promise them later.
    assert usage_line("video").startswith("this call: credits not reported · ")


# -- %yj_usage --------------------------------------------------------------------------------


def text_outputs(cap: Any) -> str:
    return "\n".join(o.data.get("text/plain", "") for o in cap.outputs) + cap.stdout


def test_yj_usage_by_kind(shell: Any, magics: Any) -> None:
    client = magics.client()
    client.chat("hello")
    client.chat("hello again")
    spend_video(magics)
    with capture_output() as cap:
        result = shell.run_line_magic("yj_usage", "--by kind")
    assert result is None
    (shown,) = cap.outputs
    assert "text/html" in shown.data
    table = shown.data["text/plain"]
    assert "calls" in table and "credits" in table and "mean_latency_s" in table
    lines = {line.split()[0]: line.split() for line in table.splitlines()[2:]}
    assert lines["chat"][1] == "2"
    assert lines["video"][1:2] == ["1"] and "25.0" in lines["video"]


@pytest.mark.parametrize("by", ["model", "day", "profile"])
def test_yj_usage_groupings(shell: Any, magics: Any, by: str) -> None:
    magics.client().chat("hello")
    with capture_output() as cap:
        shell.run_line_magic("yj_usage", f"--by {by}")
    text = text_outputs(cap)
    expected = {
        "model": "qwen3-max",
        "day": datetime.now(timezone.utc).date().isoformat(),
        "profile": magics.client().settings.profile,
    }[by]
    assert expected in text


def test_yj_usage_since(shell: Any, magics: Any) -> None:
    magics.client().chat("hello")
    with capture_output() as cap:
        shell.run_line_magic("yj_usage", "--since 2999-01-01")
    assert "No calls recorded since 2999-01-01" in cap.stdout and not cap.outputs
    with capture_output() as cap:
        shell.run_line_magic("yj_usage", "--since today --by kind")
    assert "chat" in text_outputs(cap)
    with pytest.raises(UsageError, match="--since 'yesterday-ish' is not a date"):
        shell.run_line_magic("yj_usage", "--since yesterday-ish")


def test_yj_usage_empty_and_off(shell: Any, magics: Any) -> None:
    with capture_output() as cap:
        shell.run_line_magic("yj_usage", "")
    assert "No calls recorded in" in cap.stdout
    magics.ledger = False
    with capture_output() as cap:
        shell.run_line_magic("yj_usage", "")
    assert "The usage ledger is off" in cap.stdout


def test_yj_usage_bad_by(shell: Any) -> None:
    with pytest.raises(UsageError):
        shell.run_line_magic("yj_usage", "--by colour")


def test_yj_usage_plot(shell: Any, magics: Any) -> None:
    pytest.importorskip("matplotlib")
    magics.client().chat("hello")
    spend_video(magics)
    with capture_output() as cap:
        shell.run_line_magic("yj_usage", "--plot")
    kinds = [sorted(o.data) for o in cap.outputs]
    assert len(kinds) == 2 and "text/html" in kinds[0]
    png = cap.outputs[1].data["image/png"]
    assert png  # IPython hands PNG bytes over base64-encoded or raw, depending on the version


def test_yj_usage_plot_without_matplotlib(
    shell: Any, magics: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    magics.client().chat("hello")
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(UsageError, match="--plot needs matplotlib: pip install matplotlib"):
        shell.run_line_magic("yj_usage", "--plot")


def test_usage_reads_what_the_magics_wrote(magics: Any) -> None:
    magics.client().chat("hello")
    df = yjnb.usage()
    assert list(df["kind"]) == ["chat"] and df["total_tokens"].iloc[0] > 0


def test_an_unreadable_ledger_fails_the_budget_closed(
    magics: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    magics.budget_credits = 10
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("YJ_HOME", str(blocker / "home"))
    with pytest.raises(UsageError, match=r"Cannot read the usage ledger.*--force"):
        budget(magics)
    assert budget(magics, force=True) == ""
