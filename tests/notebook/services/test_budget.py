"""The credit budgets and the usage line, through a real shell and the emulator."""

from __future__ import annotations

from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

if __package__:  # tests/notebook as a package or as a rootdir-inserted folder
    from ..usage_helpers import VIDEO, other_kernel_spends, spend_video
else:
    from usage_helpers import VIDEO, other_kernel_spends, spend_video

from yjnb.ledger import session_totals
from yjnb.notebook.services.budget import check_budget, usage_line


def budget(magics: Any, force: bool = False) -> str:
    with capture_output() as cap:
        check_budget(magics.session, force=force)
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
    client = magics.session.client()
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


# -- the usage line ---------------------------------------------------------------------------


def test_usage_line_after_real_calls(magics: Any) -> None:
    answer = magics.session.client().chat("你是谁")
    n = answer.usage.total_tokens
    # The platform reports no chat credits: said so, never "0 credits".
    assert usage_line("chat", tokens=n) == (
        f"this call: {n:,} tokens, credits not reported · today: 1 call, {n:,} tokens, "
        "credits not reported"
    )
    spend_video(magics)
    assert usage_line("video", credits=25.0) == (
        f"this call: 25 credits · today: 2 calls, {n:,} tokens, 25 credits + 1 call not reported"
    )
    other_kernel_spends(1234.5)
    assert usage_line("video").endswith(
        f"today: 3 calls, {n:,} tokens, 1,259.5 credits + 1 call not reported"
    )
    # A task whose usage has no credits (a failed one, say) does not promise them later.
    assert usage_line("video").startswith("this call: credits not reported · ")


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
