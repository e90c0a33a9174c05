"""`yjnb.experiment` against the emulator in its own process: every column, the cache, the
ledger tag, interrupts and quotas. Requests are counted by the emulator (`/_emulator/stats`).
"""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

import yjnb
from yjnb import scorers

CHAT = "POST /llmage/v1/chat/completions"
MODELS = ["qwen3-max", "qwen-plus"]
PROMPTS = {"short": "Describe {product} in one line.", "long": "Write an ad for {product}."}
COLUMNS = [
    "product", "category", "prompt", "model", "sample", "text", "status", "error",
    "prompt_tokens", "completion_tokens", "cached_tokens", "latency_s", "ttft_s", "credits",
    "credits_estimate", "cached", "cached_from", "usage_id", "mentions", "chars",
]  # fmt: skip


class EmulatorProcess:
    """`python -m yjnb.emulator` in its own process, found through its state file."""

    def __init__(self, home: Path, *options: str) -> None:
        state = home / "emulator.json"
        command = [sys.executable, "-m", "yjnb.emulator", "--port", "0", "--state-file"]
        self.proc = subprocess.Popen([*command, str(state), *options], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while not state.exists():
            assert self.proc.poll() is None and time.monotonic() < deadline, "no emulator"
            time.sleep(0.05)
        written = json.loads(state.read_text())
        self.url, self.api_key = written["url"], written["api_key"]

    def admin(self, method: str, path: str, **kw: Any) -> Any:
        answer = httpx.request(method, f"{self.url}/_emulator/{path}", timeout=30, **kw)
        answer.raise_for_status()
        return answer.json()

    def chats(self) -> int:
        return int(self.admin("GET", "stats")["counts"].get(CHAT, 0))

    def faults(self, **spec: Any) -> None:
        self.admin("POST", "faults", json=spec)

    def client(self) -> yjnb.Client:
        return yjnb.Client(api_key=self.api_key, base_url=self.url)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatorProcess]:
    process = EmulatorProcess(tmp_path_factory.mktemp("emu"), "--speed", "200")
    yield process
    process.close()


@pytest.fixture
def clean(emu: EmulatorProcess) -> Iterator[EmulatorProcess]:
    emu.admin("POST", "reset")
    yield emu
    emu.faults()


def products(n: int = 30) -> pd.DataFrame:
    return pd.DataFrame(
        {"product": [f"lamp {i}" for i in range(n)], "category": ["home", "garden"] * (n // 2)}
    )


def run_120(emu: EmulatorProcess, **kw: Any) -> yjnb.Experiment:
    return yjnb.experiment(
        products(), PROMPTS, MODELS, client=emu.client(), name="lamps",
        scorers={"mentions": scorers.contains("product"), "chars": scorers.length()}, **kw,
    )  # fmt: skip


def test_120_cells_give_120_rows_with_every_column_then_a_rerun_makes_no_request(
    clean: EmulatorProcess, isolated_env: Path, records: list[Any]
) -> None:
    isolated_env.mkdir(parents=True, exist_ok=True)
    (isolated_env / "prices.toml").write_text('[models."qwen3-max"]\ninput = 1.0\noutput = 2.0\n')
    run = run_120(clean)
    frame = run.results
    assert list(frame.columns) == COLUMNS and len(frame) == 120
    assert clean.chats() == 120 and run.status == "done"
    assert (frame["status"] == "ok").all() and frame["error"].isna().all()
    assert not frame["cached"].any() and frame["usage_id"].notna().all()
    assert (frame["completion_tokens"] > 0).all() and (frame["latency_s"] > 0).all()
    assert frame["credits"].isna().all()  # the platform reports no chat credits
    priced = frame["model"] == "qwen3-max"
    assert (frame.loc[priced, "credits_estimate"] > 0).all()
    assert frame.loc[~priced, "credits_estimate"].isna().all()
    assert set(frame["chars"]) == {len(t) for t in frame["text"]}
    assert frame.groupby(["prompt", "model"]).size().tolist() == [30] * 4
    # The answers differ by model and by prompt: the compare view means something.
    view = run.compare()
    assert len(view) == 30 and list(view[("product", "")]) == list(products()["product"])
    assert view[("short", "qwen3-max")].tolist() != view[("short", "qwen-plus")].tolist()
    assert view[("short", "qwen3-max")].tolist() != view[("long", "qwen3-max")].tolist()
    # Every real call's usage record carries the experiment and the run.
    tagged = [r for r in records if r.experiment == "lamps"]
    assert len(tagged) == 120 and {r.run_id for r in tagged} == {run.run_id}

    again = run_120(clean)
    assert clean.chats() == 120  # no request
    assert again.results["cached"].all() and again.counts["requests"] == 0
    assert again.results["text"].tolist() == frame["text"].tolist()
    assert len([r for r in records if r.experiment == "lamps"]) == 120  # hits are no rows
    summary = again.summary()
    assert summary["cached"].tolist() == [30] * 4 and summary["n"].tolist() == [30] * 4
    assert summary["credits_estimate"].isna().all()  # cache hits cost nothing

    fresh = run_120(clean, cache=False)
    assert clean.chats() == 240 and not fresh.results["cached"].any()


def test_failed_calls_are_not_cached_and_retry_failed_calls_only_them(
    clean: EmulatorProcess,
) -> None:
    clean.faults(status=400, times=3, path="/llmage/v1/chat")
    run = yjnb.experiment(
        ["a lamp", "a chair", "a desk", "a rug", "a bed"], "Sell {input}.", "qwen3-max",
        client=clean.client(), concurrency=1,
    )  # fmt: skip
    frame = run.results
    assert frame["status"].tolist().count("failed") == 3 and frame["error"].notna().sum() == 3
    assert clean.chats() == 5
    assert run.counts["failed"] == 3 and run.counts["ok"] == 2 and run.counts["done"] == 5
    run.retry_failed()
    assert (run.results["status"] == "ok").all() and clean.chats() == 8
    # The live counters follow: the retried cells replace their failures, not add to them.
    assert run.counts["failed"] == 0 and run.counts["ok"] == 5 and run.counts["done"] == 5
    assert run.progress.calls_done == 8 and run.progress.tokens > 0 and run.progress.in_flight == 0
    again = yjnb.experiment(
        ["a lamp", "a chair", "a desk", "a rug", "a bed"], "Sell {input}.", "qwen3-max",
        client=clean.client(),
    )  # fmt: skip
    assert again.results["cached"].all() and clean.chats() == 8


def test_a_scorer_that_raises_keeps_its_row(clean: EmulatorProcess) -> None:
    def fragile(text: str, row: Any) -> float:
        if row["input"] == "b":
            raise ValueError("cannot score b")
        return 1.0

    run = yjnb.experiment(["a", "b", "c"], "Say {input}", client=clean.client(), scorers={
        "fragile": fragile, "json": scorers.is_json()
    })  # fmt: skip
    frame = run.results
    assert len(frame) == 3 and (frame["status"] == "ok").all()
    assert frame["fragile"].tolist()[0] == 1.0
    assert frame["fragile"].tolist()[1] == "error: ValueError: cannot score b"
    assert run.summary()["fragile"].tolist() == [1.0]  # the error is not a score
    assert frame["json"].tolist() == [False] * 3


def test_an_interrupt_keeps_finished_rows_and_a_rerun_finishes_the_rest(
    clean: EmulatorProcess, interrupt_main_soon: Callable[[float], None], records: list[Any]
) -> None:
    clean.faults(latency=0.1, path="/llmage/v1/chat")
    interrupt_main_soon(0.8)
    with pytest.warns(yjnb.YJWarning, match="re-run to finish"):
        run = run_120(clean, concurrency=4)
    done = run.counts["done"]
    assert run.status == "interrupted" and 0 < done < 120
    assert str(run) == f"lamps: interrupted: {done}/120 done, re-run to finish"
    frame = run.results
    assert len(frame) == 120 and (frame["status"] == "ok").sum() == done
    assert set(frame.loc[frame["status"] != "ok", "status"]) == {"interrupted"}
    clean.faults()
    rest = run_120(clean, concurrency=4)
    assert (rest.results["status"] == "ok").all() and rest.results["cached"].sum() >= done
    assert clean.chats() <= 120 + 4
    interrupted = [r for r in records if r.status == "interrupted" and r.experiment == "lamps"]
    assert len(interrupted) <= 4  # only the calls in flight


def test_a_killed_process_resumes_paying_only_for_the_calls_in_flight(
    clean: EmulatorProcess, isolated_env: Path, run_then_kill: Callable[..., None]
) -> None:
    clean.faults(latency=0.1, path="/llmage/v1/chat")
    script = (
        "import sys, pandas as pd, yjnb\n"
        "data = pd.DataFrame({'product': [f'lamp {i}' for i in range(30)],"
        " 'category': ['home', 'garden'] * 15})\n"
        f"yjnb.experiment(data, {PROMPTS!r}, {MODELS!r}, name='lamps', concurrency=4,"
        " client=yjnb.Client(api_key=sys.argv[1], base_url=sys.argv[2]))\n"
    )
    run_then_kill(script, [clean.api_key, clean.url], lambda: clean.chats() >= 20)
    clean.faults()
    sent = clean.chats()
    assert 20 <= sent < 120
    run = run_120(clean, concurrency=4)
    assert (run.results["status"] == "ok").all() and run.results["cached"].sum() >= sent - 4
    assert clean.chats() <= 120 + 4


def test_cells_that_make_the_same_call_share_it(clean: EmulatorProcess) -> None:
    run = yjnb.experiment(["same", "same", "other"], "Say {input}", client=clean.client())
    texts = run.results["text"].tolist()
    assert clean.chats() == 2 and texts[0] == texts[1] and run.counts["requests"] == 2


def test_it_runs_where_an_event_loop_is_already_running(clean: EmulatorProcess) -> None:
    async def notebook_cell() -> yjnb.Experiment:  # as in a Jupyter kernel: a loop is busy
        asyncio.get_running_loop()
        return yjnb.experiment(["a", "b"], "Say {input}", client=clean.client())

    run = asyncio.run(notebook_cell())
    assert (run.results["status"] == "ok").all() and clean.chats() == 2


def test_a_cancelled_async_experiment_keeps_what_finished(clean: EmulatorProcess) -> None:
    clean.faults(latency=0.1, path="/llmage/v1/chat")

    async def main() -> None:
        async with yjnb.AsyncClient(api_key=clean.api_key, base_url=clean.url) as client:
            task = asyncio.ensure_future(
                client.experiment(products(), PROMPTS, MODELS, name="lamps", concurrency=4)
            )
            await asyncio.sleep(0.8)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(main())
    clean.faults()
    sent = clean.chats()
    assert 0 < sent < 120
    run = run_120(clean, concurrency=4)
    assert run.results["cached"].sum() >= sent - 4 and clean.chats() <= 120 + 4


def test_dry_run_plans_without_a_request(clean: EmulatorProcess, isolated_env: Path) -> None:
    isolated_env.mkdir(parents=True, exist_ok=True)
    (isolated_env / "prices.toml").write_text('[models."qwen3-max"]\ntokens = 1000.0\n')
    data = ["one", "two", "three"]
    plan = yjnb.experiment(data, "Say {input}", client=clean.client(), dry_run=True)
    assert plan.status == "dry_run" and clean.chats() == 0
    assert plan.estimate is not None and plan.estimate.calls == 3 and plan.estimate.cached == 0
    assert plan.estimate.prompt_tokens > 0 and plan.estimate.credits_estimate is None
    assert "3 calls to make" in str(plan) and "credits not reported" in str(plan)
    yjnb.experiment(data[:2], "Say {input}", client=clean.client())
    priced = yjnb.experiment(
        data, "Say {input}", "qwen3-max", client=clean.client(), dry_run=True,
        params={"max_tokens": 10},
    )  # fmt: skip
    assert priced.estimate is not None and priced.estimate.completion_tokens == 30
    assert priced.estimate.credits_estimate is not None and priced.estimate.credits_estimate > 0
    cached = yjnb.experiment(data, "Say {input}", client=clean.client(), dry_run=True)
    assert cached.estimate is not None and (cached.estimate.calls, cached.estimate.cached) == (1, 2)
    assert clean.chats() == 2


def test_export_writes_every_row(clean: EmulatorProcess, tmp_path: Path) -> None:
    run = yjnb.experiment(["x", "y"], {"a": "Say {input}", "b": "Shout {input}"},
                          client=clean.client())  # fmt: skip
    for suffix in (".csv", ".jsonl", ".parquet"):
        path = run.export(tmp_path / f"out{suffix}")
        back = {
            ".csv": pd.read_csv, ".parquet": pd.read_parquet,
            ".jsonl": lambda p: pd.read_json(p, lines=True),
        }[suffix](path)  # fmt: skip
        assert len(back) == 4 and back["text"].tolist() == run.results["text"].tolist()
    with pytest.raises(yjnb.ValidationError, match=r"\.csv, \.parquet, \.jsonl"):
        run.export(tmp_path / "out.xlsx")


def test_async_client_experiment_runs_on_the_callers_loop(clean: EmulatorProcess) -> None:
    async def main() -> yjnb.Experiment:
        async with yjnb.AsyncClient(api_key=clean.api_key, base_url=clean.url) as client:
            return await client.experiment(["p", "q"], "Say {input}", MODELS)

    run = asyncio.run(main())
    assert len(run.results) == 4 and (run.results["status"] == "ok").all()
    assert clean.chats() == 4


def test_a_quota_gives_no_failed_row(tmp_path: Path) -> None:
    # 30 requests a minute of platform time; at speed 120 a minute is half a second, and each
    # 429 says "come back in 1 s": 48 calls need several windows, waited out.
    quota = EmulatorProcess(tmp_path, "--speed", "120", "--rpm", "30")
    try:
        run = yjnb.experiment(
            products(12), PROMPTS, MODELS, client=quota.client(), concurrency=8,
        )  # fmt: skip
        frame = run.results
        assert len(frame) == 48 and (frame["status"] == "ok").all()
        assert run.counts["rate_limited"] > 0  # 429s happened, and were waited out
        assert not math.isnan(frame["latency_s"].max())
    finally:
        quota.close()


def test_a_tokens_per_minute_quota_gives_no_failed_row(tmp_path: Path) -> None:
    # Each of these chats spends 27 tokens (max_tokens=20); 300 a minute admit 11 of the 48
    # calls a window (half a second at speed 120; each 429 says "come back in 1 s").
    quota = EmulatorProcess(tmp_path, "--speed", "120", "--tpm", "300")
    try:
        run = yjnb.experiment(
            products(12), PROMPTS, MODELS, client=quota.client(), params={"max_tokens": 20},
        )  # fmt: skip
        frame = run.results
        assert len(frame) == 48 and (frame["status"] == "ok").all()
        assert (frame["prompt_tokens"] + frame["completion_tokens"]).max() <= 300
        assert run.counts["rate_limited"] > 0  # the token quota refused calls, waited out
        assert quota.chats() > 48  # ... and those refused were sent again
    finally:
        quota.close()
