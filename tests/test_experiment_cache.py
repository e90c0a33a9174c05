"""The answer cache's writes: chat answers arriving close together share a transaction, and
each is committed before the cell awaiting it goes on."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from yjnb import _experiment_cache
from yjnb._experiment_cache import FILENAME, AnswerCache


def stored_keys(home: Path) -> set[str]:
    with sqlite3.connect(home / FILENAME) as other:  # another connection: committed rows only
        return {key for (key,) in other.execute("SELECT key FROM answers")}


def test_answers_within_a_window_share_one_commit_and_each_is_committed_first(
    tmp_path: Path,
) -> None:
    cache = AnswerCache(tmp_path)
    commits: list[str] = []
    cache._connection().set_trace_callback(
        lambda sql: commits.append(sql) if sql.strip().upper() == "COMMIT" else None
    )
    seen_after_commit: dict[str, bool] = {}

    async def cell(i: int) -> None:
        await asyncio.sleep(i * 0.001)  # answers a millisecond apart: one window
        await cache.commit(f"k{i}", {"text": f"answer {i}"}, experiment="e", run_id="r")
        seen_after_commit[f"k{i}"] = f"k{i}" in stored_keys(tmp_path)

    async def main() -> None:
        await asyncio.gather(*(cell(i) for i in range(10)))

    asyncio.run(main())
    assert seen_after_commit == {f"k{i}": True for i in range(10)}
    assert len(commits) == 1, commits
    cache.close()


def test_a_full_window_is_committed_without_waiting(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(_experiment_cache, "FLUSH_WINDOW_S", 60.0)  # only the count flushes
    monkeypatch.setattr(_experiment_cache, "FLUSH_MAX", 4)
    cache = AnswerCache(tmp_path)

    async def main() -> None:
        await asyncio.wait_for(
            asyncio.gather(
                *(
                    cache.commit(f"k{i}", {"text": "a"}, experiment="e", run_id="r")
                    for i in range(4)
                )
            ),
            timeout=5,
        )

    asyncio.run(main())
    assert stored_keys(tmp_path) == {"k0", "k1", "k2", "k3"}
    cache.close()


def test_an_answer_whose_cell_was_cancelled_is_committed_by_close(tmp_path: Path) -> None:
    cache = AnswerCache(tmp_path)

    async def main() -> None:
        waiting = asyncio.ensure_future(
            cache.commit("k", {"text": "paid for"}, experiment="e", run_id="r")
        )
        await asyncio.sleep(0)
        waiting.cancel()

    asyncio.run(main())  # the loop ends before the window's timer fires
    cache.close()
    assert stored_keys(tmp_path) == {"k"}
