"""The answer cache's writes: chat answers of one turn of the event loop share a transaction,
and each is committed before the cell awaiting it goes on."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from yjnb._experiment_cache import FILENAME, AnswerCache


def stored_keys(home: Path) -> set[str]:
    with sqlite3.connect(home / FILENAME) as other:  # another connection: committed rows only
        return {key for (key,) in other.execute("SELECT key FROM answers")}


def test_answers_of_one_turn_share_one_commit_and_each_is_committed_before_it_returns(
    tmp_path: Path,
) -> None:
    cache = AnswerCache(tmp_path)
    commits: list[str] = []
    cache._connection().set_trace_callback(
        lambda sql: commits.append(sql) if sql.strip().upper() == "COMMIT" else None
    )
    seen_after_commit: dict[str, bool] = {}

    async def cell(i: int) -> None:
        await cache.commit(f"k{i}", {"text": f"answer {i}"}, experiment="e", run_id="r")
        seen_after_commit[f"k{i}"] = f"k{i}" in stored_keys(tmp_path)

    async def main() -> None:
        await asyncio.gather(*(cell(i) for i in range(10)))  # ten answers in one turn
        await cell(10)  # a later turn: a transaction of its own, at once

    asyncio.run(main())
    assert seen_after_commit == {f"k{i}": True for i in range(11)}
    assert len(commits) == 2, commits
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


def test_an_answer_written_again_replaces_the_old_one_in_place(tmp_path: Path) -> None:
    """A re-run (`cache=False`) writes keys the cache has: the new answer, run and time take
    the old row's place (updated, not deleted and inserted again: the same row id), chat
    answers and held tasks alike."""
    cache = AnswerCache(tmp_path)

    def rows(table: str) -> list[tuple[object, ...]]:
        return cache._connection().execute(f"SELECT rowid, * FROM {table}").fetchall()

    async def main() -> None:
        await cache.commit("k", {"text": "first"}, experiment="e", run_id="r1")
        await cache.commit("other", {"text": "x"}, experiment="e", run_id="r1")
        (rowid, *_), _ = rows("answers")
        await cache.commit("k", {"text": "second"}, experiment="e2", run_id="r2")
        (again, key, experiment, run_id, *_), _ = rows("answers")
        assert (again, key, experiment, run_id) == (rowid, "k", "e2", "r2")
        assert cache.get_many(["k"]) == {"k": {"text": "second"}}

    asyncio.run(main())
    cache.hold("t", {"taskid": "1"}, experiment="e", run_id="r1")
    cache.hold("t", {"taskid": "2"}, experiment="e", run_id="r2")
    assert [(r[1], r[3]) for r in rows("tasks")] == [("t", "r2")]
    assert cache.held_many(["t"]) == {"t": {"taskid": "2"}}
    cache.close()
