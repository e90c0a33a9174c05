"""Price tables and estimates (`yjnb._estimates`, `yjnb._prices`): parsed strictly, marked."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

import yjnb
import yjnb._prices
from yjnb._estimates import parse_prices
from yjnb._prices import configure, price_table
from yjnb._types import Usage


@pytest.fixture(autouse=True)
def no_override() -> None:
    configure(None)


def test_input_and_output_prices_per_thousand_tokens() -> None:
    table = parse_prices({"models": {"m": {"input": 2.0, "output": 8.0}, "n": {"tokens": 1.0}}})
    usage = Usage(prompt_tokens=100, completion_tokens=50, total_tokens=150)
    assert table.estimate("m", usage) == pytest.approx(0.6)
    assert table.estimate("n", usage) == pytest.approx(0.15)
    assert table.estimate("other", usage) is None  # no price: no estimate, never 0
    assert table.estimate("m", Usage()) is None  # no tokens: nothing to estimate
    assert table.estimate("n", Usage(total_tokens=1000)) == pytest.approx(1.0)  # a bare total


def test_a_bad_table_lists_every_problem() -> None:
    with pytest.raises(yjnb.ValidationError) as info:
        parse_prices({"a": {"input": "cheap"}, "b": {"inputs": 1.0}, "c": 3, "d": {"output": -1}})
    problems = info.value.problems
    assert len(problems) == 4
    assert "prices: a.input must be a number of credits >= 0, not 'cheap'" in problems
    assert any("b: unknown inputs; allowed: input, output, tokens" in p for p in problems)


def test_the_file_is_looked_at_once_a_second_at_most(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(yjnb._prices, "RECHECK_S", 1.0)
    (tmp_path / "prices.toml").write_text('[models."m"]\ntokens = 1.0\n', encoding="utf-8")
    assert price_table(tmp_path).estimate("m", Usage(total_tokens=1000)) == 1.0
    stats: list[Path] = []
    real_stat = Path.stat
    monkeypatch.setattr(Path, "stat", lambda self, **kw: stats.append(self) or real_stat(self))
    for _ in range(100):  # every recorded chat asks, on the event loop
        assert price_table(tmp_path).estimate("m", Usage(total_tokens=1000)) == 1.0
    assert stats == []
    monkeypatch.setattr(yjnb._prices, "RECHECK_S", 0.0)
    price_table(tmp_path)
    assert stats == [tmp_path / "prices.toml"]


def test_the_file_in_yj_home_is_read_again_when_it_changes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "prices.toml"
    assert not price_table(tmp_path)  # no file: no estimates
    path.write_text('[models."qwen3-max"]\ntokens = 1.0\n', encoding="utf-8")
    assert price_table(tmp_path).estimate("qwen3-max", Usage(total_tokens=500)) == 0.5
    path.write_text('[models."qwen3-max"]\ntokens = "x"\n', encoding="utf-8")
    os.utime(path, (1, 1))  # a different mtime, whatever the clock's resolution
    with caplog.at_level(logging.WARNING, logger="yjnb"):
        assert not price_table(tmp_path)  # a broken file gives no estimates, and says why
    assert "is not used for estimates" in caplog.text
    configure({"qwen3-max": {"tokens": 2.0}})  # %config YJMagics.prices wins over the file
    assert price_table(tmp_path).estimate("qwen3-max", Usage(total_tokens=500)) == 1.0
