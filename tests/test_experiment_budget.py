"""Budgets (`yjnb._experiment_budget`): `budget=` credits, `budget_tokens=`, an exhausted
balance. Each stops a run cleanly (`skipped_budget`, no traceback, nothing finished lost), and
a re-run with more room calls only the skipped cells. Against the emulator on loopback."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

import yjnb

CHAT = "POST /llmage/v1/chat/completions"
ROWS = [f"lamp {i}" for i in range(8)]


@pytest.fixture
def priced(isolated_env: Path) -> Path:
    """qwen3-max at 1 credit a token: a call costs its tokens in credits."""
    isolated_env.mkdir(parents=True, exist_ok=True)
    path = isolated_env / "prices.toml"
    path.write_text('[models."qwen3-max"]\ntokens = 1000.0\n')
    return path


def run(client: yjnb.Client, rows: list[str] = ROWS, **kw: Any) -> yjnb.Experiment:
    kw.setdefault("concurrency", 1)
    return yjnb.experiment(rows, "Sell {input}.", "qwen3-max", client=client, name="sell", **kw)


def test_reaching_the_credit_budget_stops_cleanly_and_a_rerun_finishes_the_skipped_cells(
    client: yjnb.Client, emulator: Any, priced: Path
) -> None:
    with pytest.warns(yjnb.YJWarning) as caught:
        first = run(client, budget=60)
    lines = [str(w.message) for w in caught]
    assert any("estimate not reported" in line and "60 credits" in line for line in lines)
    frame = first.results
    ok, skipped = frame["status"] == "ok", frame["status"] == "skipped_budget"
    assert first.status == "budget" and (ok | skipped).all() and ok.any() and skipped.any()
    assert first.counts["requests"] == ok.sum() == emulator.count(CHAT)  # the skipped: not sent
    spent = frame.loc[ok, "credits_estimate"]
    assert spent.sum() >= 60 > spent.sum() - spent.iloc[-1]  # stopped once reached, not before
    assert first.budget is not None and first.budget.spent == pytest.approx(spent.sum())
    assert frame.loc[skipped, "error"].str.contains("budget reached").all()
    assert frame.loc[skipped, "text"].isna().all()
    assert any("stopped, budget reached" in line and "re-run to finish" in line for line in lines)

    with pytest.warns(yjnb.YJWarning, match="estimate not reported"):
        again = run(client, budget=10_000)
    assert again.status == "done" and (again.results["status"] == "ok").all()
    assert again.counts["requests"] == skipped.sum() and emulator.count(CHAT) == len(ROWS)
    assert again.results["cached"].tolist() == ok.tolist()  # the finished ones: from the cache
    assert again.results.loc[ok, "text"].tolist() == frame.loc[ok, "text"].tolist()


def test_a_token_budget_counts_the_tokens_of_the_calls_made(
    client: yjnb.Client, emulator: Any
) -> None:
    with pytest.warns(yjnb.YJWarning) as caught:
        first = run(client, budget_tokens=40)
    lines = [str(w.message) for w in caught]
    assert "estimate not reported" in lines[0] and "stopped, budget reached" in lines[1]
    frame = first.results
    ok = frame["status"] == "ok"
    tokens = frame.loc[ok, "prompt_tokens"] + frame.loc[ok, "completion_tokens"]
    assert first.status == "budget" and 0 < ok.sum() < len(ROWS)
    assert tokens.sum() >= 40 > tokens.sum() - tokens.iloc[-1]
    assert emulator.count(CHAT) == ok.sum()


def test_an_estimate_over_the_budget_sends_nothing(
    client: yjnb.Client, emulator: Any, priced: Path
) -> None:
    plan = run(client, budget=5, params={"max_tokens": 50}, dry_run=True)
    assert plan.estimate is not None and plan.estimate.credits_estimate is not None
    assert plan.estimate.credits_estimate > 5  # a dry run shows it, and is not refused
    with pytest.raises(yjnb.ValidationError, match=r"sell: the estimate for 8 calls is ≈\d+"):
        run(client, budget=5, params={"max_tokens": 50})
    assert emulator.count(CHAT) == 0


def test_an_estimate_within_the_budget_runs_without_a_word(
    client: yjnb.Client, emulator: Any, priced: Path
) -> None:
    params = {"max_tokens": 20}
    plan = run(client, params=params, dry_run=True)
    assert plan.estimate is not None and plan.estimate.credits_estimate is not None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an estimate under the budget: no warning
        whole = run(client, budget=plan.estimate.credits_estimate * 2, params=params)
    assert whole.status == "done" and (whole.results["status"] == "ok").all()
    assert emulator.count(CHAT) == len(ROWS)


def test_an_exhausted_balance_stops_cleanly_keeping_what_finished(
    client: yjnb.Client, emulator: Any
) -> None:
    done = run(client, ROWS[:3])
    assert done.status == "done" and emulator.count(CHAT) == 3
    emulator.set_balance(emulator.api_key, 0)
    with pytest.warns(yjnb.YJWarning, match="stopped, insufficient balance") as caught:
        short = run(client, concurrency=3)
    assert len(caught) == 1
    frame = short.results
    assert frame["status"].tolist() == ["ok"] * 3 + ["skipped_budget"] * 5
    assert frame["cached"].tolist() == [True] * 3 + [False] * 5
    assert frame.loc[3:, "error"].str.contains("insufficient balance").all()
    # The refused call told the run to stop: at most the calls already in flight were sent.
    refused = emulator.count(CHAT) - 3
    assert 1 <= refused <= 3

    emulator.set_balance(emulator.api_key, 1000)
    topped = short.retry_failed()
    assert topped.status == "done" and (topped.results["status"] == "ok").all()
    assert emulator.count(CHAT) == 3 + refused + 5  # the five skipped, nothing twice


def test_a_credit_budget_needs_a_price_for_the_judge_too(
    client: yjnb.Client, emulator: Any, priced: Path
) -> None:
    judge = yjnb.scorers.judge("qwen-plus", "Good? echo: SCORE: 5")
    with pytest.raises(yjnb.ValidationError, match="budget=5 credits: no price for qwen-plus"):
        run(client, budget=5, scorers={"grade": judge})
    assert emulator.count(CHAT) == 0
