"""The team budget on a shared PostgreSQL ledger: every user's credits, checked and reserved
atomically, through a real shell, the emulator and real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest
from IPython.core.error import UsageError
from IPython.utils.capture import capture_output

if __package__:  # tests/notebook as a package or as a rootdir-inserted folder
    from ..usage_helpers import spend_video
else:
    from usage_helpers import spend_video

from yjnb._types import UsageRecord
from yjnb.ledger import Ledger, default_ledger, team_budget
from yjnb.notebook.services.budget import check_budget


def spent_by(url: str, user: str, credits: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """`user`'s kernel (another machine) spends `credits` on viduq3-pro today."""
    with monkeypatch.context() as env:
        env.setenv("YJ_USER", user)
        ledger = Ledger(url)
        ledger.record(
            UsageRecord(
                kind="video",
                status="ok",
                model="viduq3-pro",
                taskid=f"{user}-{uuid.uuid4().hex}",
                credits=credits,
                started_at=datetime.now(timezone.utc),
            )
        )
        ledger.close()


def budget(magics: Any, force: bool = False) -> str:
    with capture_output() as cap:
        check_budget(magics.session, force=force, models=["viduq3-pro"])
    return cap.stdout + cap.stderr


@pytest.fixture
def team(shell: Any, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    shell.run_line_magic("config", f"YJMagics.ledger_url = {pg_url!r}")
    monkeypatch.setenv("YJ_USER", "cy")
    return pg_url


def open_reservations(url: str) -> list[tuple[str, float]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            'SELECT "user", credits FROM reservations WHERE settled_at IS NULL ORDER BY id'
        )
        return [(user, float(credits)) for user, credits in rows]


def test_the_team_budget_counts_everyone_warns_then_refuses_naming_who(
    magics: Any, team: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    spent_by(team, "ana", 25, monkeypatch)
    spent_by(team, "ana", 25, monkeypatch)
    spent_by(team, "bo", 25, monkeypatch)
    magics.team_budget_credits = 120
    assert budget(magics) == ""  # 75 of 120
    assert open_reservations(team) == [("cy", 25.0)]  # the model's usual price, set aside
    spend_video(magics)  # cy's 25: the reservation is settled by the row
    default_ledger().flush()
    assert open_reservations(team) == []
    warning = budget(magics)  # 100 of 120: 83 %
    assert "83% of the credit budget used" in warning
    assert "by the team today (UTC): ana 50, bo 25, cy 25" in warning
    assert "YJMagics.team_budget_credits" in warning
    spend_video(magics)  # 125 of 120
    with pytest.raises(UsageError) as info:
        budget(magics)
    message = str(info.value)
    assert "\n" not in message
    assert "125 of 120 credits spent by the team today (UTC): ana 50, cy 50, bo 25" in message
    assert "%config YJMagics.team_budget_credits = 240" in message and "--force" in message
    assert "running anyway (--force)" in budget(magics, force=True)
    assert open_reservations(team) == [("cy", 25.0)]  # forced: still set aside for the others


def test_a_reservation_holds_the_last_credits_until_its_row_is_written(
    magics: Any, team: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    spent_by(team, "ana", 75, monkeypatch)
    spent_by(team, "ana", 25, monkeypatch)  # ana's mean price of viduq3-pro: 50
    magics.team_budget_credits = 200
    first = team_budget(200, ["viduq3-pro"])
    assert first.passed and first.amount == 50.0
    second = team_budget(200, ["viduq3-pro"])  # 100 spent + 50 reserved: still room
    assert second.passed
    with pytest.raises(UsageError, match=r"200 of 200 credits .*ana 100 \+ 100 reserved"):
        budget(magics)


def test_a_team_budget_that_cannot_be_read_refuses_unless_forced(
    magics: Any, shell: Any, pg_server: Any
) -> None:
    url = pg_server.url("no_such_database")
    shell.run_line_magic("config", f"YJMagics.ledger_url = {url!r}")
    magics.team_budget_credits = 10
    with pytest.raises(UsageError, match="Cannot read the usage ledger to check the team budget"):
        budget(magics)
    assert budget(magics, force=True) == ""


RACER = textwrap.dedent(
    """
    import json, sys, time, pathlib
    import yjnb
    from yjnb.ledger import team_budget
    from yjnb._tasks import PollSchedule
    start = pathlib.Path(sys.argv[3])
    while not start.exists():
        time.sleep(0.001)
    check = team_budget(100.0, ["viduq3-pro"])
    if check.passed:
        fast = PollSchedule(first=0.02, factor=1.5, cap=0.1, jitter=0.1)
        client = yjnb.Client(api_key=sys.argv[1], base_url=sys.argv[2], poll=fast)
        client.video("a cat on the moon", model="viduq3-pro", duration=1)
    print(json.dumps(check.passed))
    """
)


def test_two_kernels_racing_for_the_last_credits_one_gets_through(
    emulator: Any, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spent_by(pg_url, "ana", 25.0, monkeypatch)
    spent_by(pg_url, "ana", 50.0, monkeypatch)  # 75 of 100 spent; viduq3-pro ~ 37.5 each
    start = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, emulator.api_key, emulator.url, str(start)],
            env={
                **os.environ,
                "PYTHONPATH": os.pathsep.join(sys.path),
                "YJ_HOME": str(tmp_path / user),
                "YJ_USER": user,
                "YJ_LEDGER_URL": pg_url,
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for user in ("bo", "cy")
    ]
    # Both kernels are made to check at the same moment: the test holds the reservations
    # table until both wait (one for the table, the other for the budget's lock; without that
    # lock both would read "nothing reserved" and both pass).
    with psycopg.connect(pg_url) as conn, psycopg.connect(pg_url, autocommit=True) as watch:
        conn.execute("LOCK TABLE reservations IN ACCESS EXCLUSIVE MODE")
        start.touch()
        waiting = 0
        deadline = time.monotonic() + 60
        while waiting < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
            waiting = watch.execute(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = 'yjnb' "
                "AND wait_event_type = 'Lock' AND datname = current_database()"
            ).fetchone()[0]
        assert waiting == 2
        conn.commit()
    outputs = [p.communicate(timeout=110) for p in procs]
    for p, (_, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
    passed = [json.loads(out) for out, _ in outputs]
    assert sorted(passed) == [False, True]  # exactly one of the two last calls
    rows = Ledger(pg_url).rows()
    assert [r["user"] for r in rows if r["kind"] == "video"].count("ana") == 2
    assert len([r for r in rows if r["user"] in ("bo", "cy")]) == 1
    assert open_reservations(pg_url) == []  # the winner's reservation settled by its row


def test_on_a_local_file_the_team_budget_counts_this_machines_kernels(
    magics: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("YJ_USER", "cy")
    magics.team_budget_credits = 30
    assert budget(magics) == ""
    spend_video(magics)  # 25 of 30, the reservation settled by the row
    assert "83% of the credit budget used (25 of 30 credits spent by the team today (UTC): " in (
        budget(magics)
    )
    assert team_budget(30.0, ["viduq3-pro"]).reserved == 25.0  # the check just above holds 25
    with pytest.raises(UsageError, match=r"50 of 30 credits .*cy 25 \+ 25 reserved"):
        budget(magics)
