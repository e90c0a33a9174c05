"""`scorers.judge` inside `yjnb.experiment`, against the emulator on loopback: the judge's calls
go through the same client, are cached and recorded in the ledger like the cells' own, and an
unparseable verdict is an error in that cell's score column, never a lost row. The emulator
answers a prompt whose last line is `echo: TEXT` with TEXT: the rubric comes last."""

from __future__ import annotations

from typing import Any

import pytest

import yjnb
from yjnb import scorers

CHAT = "POST /llmage/v1/chat/completions"
ROWS = [
    {"product": "lamp", "verdict": "7"},
    {"product": "desk", "verdict": "PASS"},
    {"product": "rug", "verdict": "splendid"},
]
RUBRIC = "Does it sell the {product}?\necho: Fine. SCORE: {verdict}"


def judged(client: yjnb.Client, rubric: str = RUBRIC) -> yjnb.Experiment:
    return yjnb.experiment(
        ROWS, "Sell the {product}.", "qwen-plus", client=client, name="judged",
        scorers={"grade": scorers.judge("qwen3-max", rubric), "chars": scorers.length()},
    )  # fmt: skip


def test_the_judges_calls_are_scored_cached_and_recorded(
    client: yjnb.Client, emulator: Any, records: list[Any]
) -> None:
    run = judged(client)
    frame = run.results
    assert (frame["status"] == "ok").all() and len(frame) == 3  # no row lost
    assert frame["grade"].tolist()[:2] == [7.0, True]
    assert frame["grade"].iloc[2].startswith('error: ValueError: no "SCORE: <number>"')
    assert "'Fine. SCORE: splendid'" in frame["grade"].iloc[2]
    assert frame["chars"].tolist() == [len(t) for t in frame["text"]]
    assert emulator.count(CHAT) == 6 and run.counts["requests"] == 6  # 3 answers, 3 verdicts
    tagged = [r for r in records if r.experiment == "judged"]
    assert sorted(r.model for r in tagged) == ["qwen-plus"] * 3 + ["qwen3-max"] * 3
    assert {r.run_id for r in tagged} == {run.run_id}
    # The judge was asked about the answer itself.
    judge_prompts = [r.prompt for r in tagged if r.model == "qwen3-max"]
    assert all(
        f"<answer>\n{t}\n</answer>" in p for t, p in zip(frame["text"], judge_prompts, strict=True)
    )
    summary = run.summary()
    assert summary["grade"].iloc[0] == pytest.approx(4.0)  # (7 + True) / 2: the error not counted

    again = judged(client)
    assert emulator.count(CHAT) == 6 and again.counts["requests"] == 0  # the verdicts: cached too
    assert again.results["grade"].tolist()[:2] == [7.0, True]

    stricter = judged(client, RUBRIC.replace("Does it", "Does it really"))
    assert emulator.count(CHAT) == 9  # a new rubric asks the judge again, not the cells
    assert stricter.results["cached"].all() and stricter.results["grade"].tolist()[:2] == [
        7.0,
        True,
    ]


def test_a_failed_judge_call_is_an_error_in_its_score_column_only(
    client: yjnb.Client, emulator: Any
) -> None:
    # The emulator refuses a model it does not have: every verdict fails, no answer is lost.
    run = yjnb.experiment(
        ROWS, "Sell the {product}.", "qwen-plus", client=client,
        scorers={"grade": scorers.judge("qwen-nonesuch", RUBRIC)},
    )  # fmt: skip
    frame = run.results
    assert (frame["status"] == "ok").all() and frame["text"].notna().all()
    assert frame["grade"].str.startswith("error: ValueError: the judge's call failed").all()
    assert run.summary()["grade"].isna().all()


def test_a_rubric_naming_a_missing_column_is_refused_before_any_request(
    client: yjnb.Client, emulator: Any
) -> None:
    with pytest.raises(yjnb.ValidationError, match=r"judge 'grade' rubric names column \{price\}"):
        judged(client, "Is {price} right?")
    with pytest.raises(yjnb.ValidationError, match="judge 'grade': qwen3-max: temperature"):
        yjnb.experiment(
            ROWS, "Sell {product}.", "qwen-plus", client=client,
            scorers={"grade": scorers.judge("qwen3-max", "ok?", params={"temperature": 9})},
        )  # fmt: skip
    assert emulator.count(CHAT) == 0
