"""The ledger's ordered migrations (`_schema` re-exports them).

Migrations are an ordered list of SQL scripts; `schema_version` holds one row per applied
step. Steps are only ever appended: editing a shipped step would leave files made with it
behind. Version 1 is the first file format; version 2 added `notebook` and an index on
`started_at`; version 3 added `partial_text` (what an interrupted chat had received);
version 4 added `demo` (1: made against the demo emulator; older rows are real); version 5
added `forgotten_at` (`%yj_tasks --forget`: the row stays, hidden) and `credits_estimate`
(from the user's price table, for calls whose credits the platform does not report: `credits`
stays NULL, "not reported", never 0); version 6 added `experiment` and `run_id` (the
`yjnb.experiment` a call was made for, and that run); version 7 added `user` (`YJ_USER`, else
the login name) and `host`, who made the call and where (a shared PostgreSQL ledger holds a
team's rows); version 8 added `outbox`, the rows a shared ledger could not take yet (only the
local SQLite file of a kernel using a shared ledger fills it), and `received`, the outbox rows
a shared ledger took (only the shared one fills it); version 9 added `reservations`
(credits set aside under the team budget, `_budget.py`); version 10 added two covering
indexes, for the summaries and the timeline.
"""

from __future__ import annotations

__all__ = ["MIGRATIONS", "SCHEMA_VERSION"]

# Ordered migrations: (version, script). Append only; never edit a shipped step.
MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE calls (
            id                INTEGER PRIMARY KEY,
            started_at        TEXT NOT NULL,
            finished_at       TEXT,
            kind              TEXT NOT NULL,
            profile           TEXT,
            model             TEXT,
            catelog           TEXT,
            status            TEXT NOT NULL,
            taskid            TEXT,
            usage_id          TEXT,
            prompt            TEXT,
            params            TEXT,
            prompt_tokens     INTEGER,
            completion_tokens INTEGER,
            cached_tokens     INTEGER,
            total_tokens      INTEGER,
            credits           REAL,
            media_seconds     REAL,
            resolution        TEXT,
            latency_s         REAL,
            ttft_s            REAL,
            error             TEXT,
            video_url         TEXT,
            image_url         TEXT,
            local_path        TEXT,
            usage_raw         TEXT
        );
        -- One row per task: the upsert's conflict target.
        CREATE UNIQUE INDEX calls_taskid ON calls (taskid) WHERE taskid IS NOT NULL;
        """,
    ),
    (
        2,
        """
        -- Which notebook made the call (JPY_SESSION_NAME), and a fast "since" / "today".
        ALTER TABLE calls ADD COLUMN notebook TEXT;
        CREATE INDEX calls_started_at ON calls (started_at);
        """,
    ),
    (
        3,
        """
        -- What an interrupted chat had received (a broken stream's partial answer).
        ALTER TABLE calls ADD COLUMN partial_text TEXT;
        """,
    ),
    (
        4,
        """
        -- Demo calls (the emulator) apart from real ones: budgets and totals count real only.
        ALTER TABLE calls ADD COLUMN demo INTEGER NOT NULL DEFAULT 0;
        """,
    ),
    (
        5,
        """
        -- When the user forgot a task (`%yj_tasks --forget`): hidden from the task list and
        -- from --resume, still counted (it may have been paid for). Written only by `forget`.
        ALTER TABLE calls ADD COLUMN forgotten_at TEXT;
        -- Credits estimated from the user's price table where the platform reports none.
        ALTER TABLE calls ADD COLUMN credits_estimate REAL;
        """,
    ),
    (
        6,
        """
        -- The experiment (`yjnb.experiment`) a call was made for, and the run: spend by
        -- experiment. Cache hits make no call, so they have no row.
        ALTER TABLE calls ADD COLUMN experiment TEXT;
        ALTER TABLE calls ADD COLUMN run_id TEXT;
        """,
    ),
    (
        7,
        """
        -- Who made the call and on which machine: a shared ledger holds a whole team's rows.
        ALTER TABLE calls ADD COLUMN "user" TEXT;
        ALTER TABLE calls ADD COLUMN host TEXT;
        """,
    ),
    (
        8,
        """
        -- Rows for a shared ledger that could not be reached, in the order they were made
        -- (a JSON object of the written columns), sent and deleted when it is back.
        CREATE TABLE outbox (
            id        INTEGER PRIMARY KEY,
            origin    TEXT NOT NULL,
            target    TEXT NOT NULL,
            queued_at TEXT NOT NULL,
            row_json  TEXT NOT NULL
        );
        -- The outbox rows a shared ledger took (their `origin`, random), written in the same
        -- transaction as the rows: a sender killed before deleting them sends nothing twice.
        CREATE TABLE received (
            origin      TEXT PRIMARY KEY,
            received_at TEXT NOT NULL
        );
        """,
    ),
    (
        9,
        """
        -- Credits a kernel set aside for a call it is about to make under the team budget
        -- (YJMagics.team_budget_credits), so that two kernels cannot both pass the last
        -- credits; settled when the call's row is written, ignored after an hour.
        CREATE TABLE reservations (
            id         INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            settled_at TEXT,
            demo       INTEGER NOT NULL DEFAULT 0,
            "user"     TEXT,
            host       TEXT,
            credits    REAL NOT NULL
        );
        CREATE INDEX reservations_created_at ON reservations (created_at);
        """,
    ),
    (
        10,
        """
        -- Summaries and the timeline read these instead of the table, already in group order
        -- (no sort): by the group keys together, and by UTC hour (`_summary.py`).
        CREATE INDEX calls_summary ON calls (demo, model, kind, profile, "user", host,
            started_at, status, total_tokens, credits, credits_estimate, latency_s);
        CREATE INDEX calls_timeline ON calls (demo, SUBSTR(started_at, 1, 13),
            started_at, status, total_tokens, credits, credits_estimate, latency_s);
        """,
    ),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]
