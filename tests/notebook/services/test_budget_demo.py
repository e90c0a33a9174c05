"""Issue 14's scenario: credits spent in demo mode never block a real call, and the "today"
lines and %yj_usage tell the two apart. The test's emulator plays the real platform; demo
calls go to the demo emulator (another process, under the test's YJ_HOME)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

from yjnb.ledger import session_totals, today_totals

IMAGES = "POST /llmage/v1/image/generations"


def _outputs(cap: Any) -> str:
    return cap.stdout + "".join(o.data.get("text/plain", "") for o in cap.outputs)


def test_demo_spending_never_counts_against_a_real_budget(
    shell: Any, magics: Any, emulator: Any, isolated_env: Path
) -> None:
    isolated_env.mkdir(parents=True, exist_ok=True)
    (isolated_env / "config.toml").write_text(
        f'[profiles.real]\nbase_url = "{emulator.url}"\n', encoding="utf-8"
    )
    magics.budget_credits = 100
    shell.run_line_magic("yj_config", "--demo")
    demo = magics.session.client()
    assert demo.settings.demo and demo.base_url != emulator.url
    spent = demo.video("a cat on the moon", model="viduq3-pro", duration=5)  # 125 credits
    assert spent.credits == 125.0
    assert (today_totals(fresh=True).credits, session_totals().credits) == (0.0, 0.0)
    assert today_totals(fresh=True, demo=True).credits == 125.0
    shell.run_line_magic("yj_config", "--profile real")  # the real platform, the real key
    before = emulator.count(IMAGES)
    with capture_output() as cap:
        shell.run_line_magic("yj_image", "-o t a red apple")  # refused before the fix
    assert emulator.count(IMAGES) == before + 1 and shell.user_ns["t"].succeeded
    assert "budget" not in cap.stderr
    real = float(shell.user_ns["t"].credits)
    assert today_totals(fresh=True).credits == real == session_totals().credits

    with capture_output() as cap:
        shell.run_line_magic("yj_usage", "--by kind")
    text = _outputs(cap)
    assert "image" in text and "video" not in text
    with capture_output() as cap:
        shell.run_line_magic("yj_usage", "--by kind --demo")
    text = _outputs(cap)
    assert "video" in text and "125" in text and "image" not in text
    assert "demo mode" in cap.stdout


def test_demo_and_real_are_two_worlds_for_budgets_and_today_lines(
    shell: Any, magics: Any, emulator: Any
) -> None:
    magics.budget_credits = 10
    magics.session.client().video("real spending", model="viduq3-pro", duration=1)  # 25 > 10
    with pytest.raises(UsageError, match="25 of 10 credits spent today"):
        shell.run_cell_magic("yj_chat", "", "echo: refused")  # the real world is over budget
    shell.run_line_magic("yj_config", "--demo")
    with capture_output() as cap:
        shell.run_cell_magic("yj_chat", "", "echo: still answered")  # the demo world is not
    assert shell.user_ns["_yj"].text == "still answered"
    footer = _outputs(cap) + "".join(o.data.get("text/markdown", "") for o in cap.outputs)
    # The demo world's day: one chat, whose credits the platform does not report.
    assert "today: 1 call, " in footer and "credits not reported" in footer
    assert today_totals(fresh=True, demo=True).calls == 1 == session_totals(demo=True).calls
    assert today_totals(fresh=True).credits == 25.0 == session_totals().credits
    # Demo budgets work the same, on demo spending: a demo session can try them out.
    magics.session.client().video("demo spending", model="viduq3-pro", duration=1)
    with pytest.raises(UsageError, match="25 of 10 credits spent today"):
        shell.run_cell_magic("yj_chat", "", "echo: refused in demo too")
