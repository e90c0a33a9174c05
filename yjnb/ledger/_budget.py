"""The team budget: a day's credits across every user of one ledger, checked and reserved at once.

`YJMagics.team_budget_credits` caps what a whole team spends per UTC day on a shared ledger
(it works on a local file too, across the kernels of one machine). Checking what was spent and
then calling is a race: two kernels on two machines could both see the last credits free.
So the check and a reservation are one transaction under a lock (PostgreSQL: a
transaction-scoped advisory lock; SQLite: `BEGIN IMMEDIATE`):

1. lock; sum today's reported credits by user, plus the open reservations;
2. if that reaches the budget, refuse (nothing reserved) unless forced;
3. else reserve what the call is expected to cost (the mean of the model's last reported
   credits on this ledger; 0 for a model that never reported any) and commit.

The kernel remembers its open reservations (oldest first). When the writer writes a row in a
final state (not `pending` / `running`) it settles the oldest one, after the row that now
counts the real credits. A reservation never settled (a call that failed before any record, a
killed kernel) stops counting after `RESERVATION_TTL_S`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from ._dialect import BUDGET_LOCK
from ._schema import WRITTEN, iso, who

if TYPE_CHECKING:
    from ._store import Store

__all__ = ["RESERVATION_TTL_S", "TeamCheck", "reserve", "settle"]

RESERVATION_TTL_S = 3600.0
_STATUS = WRITTEN.index("status")
_UNFINISHED = frozenset({"pending", "running"})


@dataclass(frozen=True)
class TeamCheck:
    """What the team spent today (reported credits, by user), what is reserved, and whether
    this call's reservation was made (`reservation` is its id, None if refused)."""

    budget: float
    by_user: dict[str, float] = field(default_factory=dict)
    reserved: float = 0.0
    reservation: int | None = None
    amount: float = 0.0

    @property
    def spent(self) -> float:
        return sum(self.by_user.values())

    @property
    def passed(self) -> bool:
        return self.reservation is not None


def reserve(
    store: Store, budget: float, models: Sequence[str], *, demo: bool, force: bool
) -> TeamCheck:
    """Check today's team spending against `budget` and reserve this call's credits, in one
    locked transaction. Refused (no reservation) when spent + reserved reaches the budget,
    unless `force`."""
    now = datetime.now(timezone.utc)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    fresh = iso(max(midnight, now - timedelta(seconds=RESERVATION_TTL_S)))
    world = 1 if demo else 0
    with store._lock:
        db = store._connection()
        with db.transaction(lock=BUDGET_LOCK):
            rows = db.execute(
                'SELECT "user", SUM(credits) FROM calls WHERE +demo = ? AND started_at >= ? '
                'AND credits IS NOT NULL GROUP BY "user"',
                (world, iso(midnight)),
            ).fetchall()
            by_user = {str(user or "(unknown)"): float(credits) for user, credits in rows}
            held = db.execute(
                "SELECT COALESCE(SUM(credits), 0) FROM reservations "
                "WHERE demo = ? AND settled_at IS NULL AND created_at >= ?",
                (world, fresh),
            ).fetchone()[0]
            check = TeamCheck(budget, by_user, float(held))
            if check.spent + check.reserved >= budget and not force:
                return check
            amount = sum(_expected(db, model, world) for model in models)
            user, host = who()
            rowid = db.execute(
                'INSERT INTO reservations (created_at, demo, "user", host, credits) '
                "VALUES (?, ?, ?, ?, ?) RETURNING id",
                (iso(now), world, user, host, amount),
            ).fetchone()[0]
    store.open_reservations.append(int(rowid))
    return TeamCheck(budget, by_user, float(held), int(rowid), amount)


def _expected(db: Any, model: str, world: int) -> float:
    """The mean of the model's last 20 reported credits on this ledger (0 if none)."""
    value = db.execute(
        "SELECT AVG(credits) FROM (SELECT credits FROM calls WHERE model = ? AND demo = ? "
        "AND credits IS NOT NULL ORDER BY id DESC LIMIT 20) recent",
        (model, world),
    ).fetchone()[0]
    return float(value) if value is not None else 0.0


def settle(store: Store, rows: Sequence[tuple[Any, ...]]) -> None:
    """After `rows` were written: settle one open reservation per row in a final state."""
    finished = sum(1 for row in rows if row[_STATUS] not in _UNFINISHED)
    if not finished or not store.open_reservations:
        return
    done = store.open_reservations[:finished]
    del store.open_reservations[:finished]
    marks = ", ".join("?" * len(done))
    store._connection().execute(
        f"UPDATE reservations SET settled_at = ? WHERE id IN ({marks})",
        (iso(datetime.now(timezone.utc)), *done),
    )
