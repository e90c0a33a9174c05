"""The credit budgets and the usage line under each output (`%yj_usage` is commands/usage.py).

For the commands and the forms (a contract):

* `check_budget(session, force=args.force, demo=..., models=...)` before any paid request:
  warns at 80 % of a budget, raises a one-line `UsageError` beyond it unless `--force`. The
  team budget also reserves the call's expected credits for `models` (settled by its row).
* `usage_line(kind, tokens=..., credits=..., demo=...)` after the call: "this call: 36 tokens,
  credits not reported · today: 12 calls, 1,234 tokens, 12.5 credits + 4 calls not reported",
  or "" when the ledger is off. Plain text: escape it. Credits the platform did not report say
  so, never 0; estimates (a price table's, the tokens of an interrupted answer) are marked
  "≈ … (est.)".

Real and demo calls are two worlds: a real call's budget and "today" count real calls only, a
demo call's (demo mode, the demo emulator) count demo calls only, so a demo session can try
budgets out without ever touching real spending, and demo credits never block a real call.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from IPython.core.error import UsageError

from ... import ledger as _ledger

if TYPE_CHECKING:
    from ..session import Session

__all__ = ["check_budget", "credits_text", "ledger_active", "usage_line"]

WARN_AT = 0.8


def _fmt_credits(value: float) -> str:
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return text or "0"


def ledger_active(session: Session) -> bool:
    """`YJMagics.ledger` is on and the process's ledger records."""
    return bool(session.options.ledger) and _ledger.enabled()


def check_budget(
    session: Session, *, force: bool, demo: bool = False, models: Sequence[str] = ()
) -> None:
    """Before a paid call: warn at 80 % of a credit budget, refuse beyond it unless `force`.

    `YJMagics.budget_credits` is per UTC day, over every kernel writing to the same ledger;
    `YJMagics.session_budget_credits` counts this process only;
    `YJMagics.team_budget_credits` is per UTC day over every user of a shared ledger, checked
    and reserved for the call to `models` atomically (`yjnb.ledger._budget`). 0 means no
    budget. A real call counts real calls only; a `demo` call, demo calls only.
    """
    daily = float(session.options.budget_credits or 0)
    per_session = float(session.options.session_budget_credits or 0)
    team = float(session.options.team_budget_credits or 0)
    if (daily <= 0 and per_session <= 0 and team <= 0) or not ledger_active(session):
        return
    today = datetime.now(timezone.utc).date().isoformat()
    checks: list[tuple[str, str, float, float, str]] = []
    if daily > 0:
        try:
            # Fresh: the in-memory tally may lag other kernels' spending by a moment.
            spent = _ledger.today_totals(fresh=True, demo=demo).credits
        except Exception as exc:  # fail closed: a budget that cannot be read is not a pass
            _unreadable(exc, force, "daily")
            return
        checks.append((f"day:{today}", "today (UTC)", spent, daily, "budget_credits"))
    if per_session > 0:
        spent = _ledger.session_totals(demo=demo).credits
        checks.append(("session", "this session", spent, per_session, "session_budget_credits"))
    for key, when, spent, budget, trait in checks:
        summary = f"{_fmt_credits(spent)} of {_fmt_credits(budget)} credits spent {when}"
        _judge(session, key, summary, spent, budget, trait, force=force, demo=demo)
    if team > 0:
        _check_team(session, team, models, force=force, demo=demo, today=today)


def _unreadable(exc: Exception, force: bool, which: str) -> None:
    if force:
        return
    lines = str(exc).strip().splitlines()  # a server's error may span lines: the first
    raise UsageError(
        f"Cannot read the usage ledger to check the {which} budget "
        f"({lines[0] if lines else type(exc).__name__}); add --force to run this call anyway"
    ) from None


def _judge(
    session: Session,
    key: str,
    summary: str,
    spent: float,
    budget: float,
    trait: str,
    *,
    force: bool,
    demo: bool,
) -> None:
    """Refuse (or, forced, say so) at the budget; warn once at 80 %."""
    key += ":demo" if demo else ""
    if spent >= budget:
        if force:
            print(f"yjnb: budget exceeded ({summary}); running anyway (--force)", file=sys.stderr)
            return
        raise UsageError(
            f"Credit budget reached: {summary}. Raise it with "
            f"%config YJMagics.{trait} = {_fmt_credits(_raised(budget, spent))} "
            "or add --force to run this call anyway"
        )
    if spent >= WARN_AT * budget and (key, budget) not in session.budget_warned:
        session.budget_warned.add((key, budget))
        print(
            f"yjnb: {spent / budget:.0%} of the credit budget used ({summary}; YJMagics.{trait})",
            file=sys.stderr,
        )


def _check_team(
    session: Session, budget: float, models: Sequence[str], *, force: bool, demo: bool, today: str
) -> None:
    """The team budget: checked and this call's credits reserved in one locked transaction."""
    try:
        check = _ledger.team_budget(budget, models, demo=demo, force=force)
    except Exception as exc:  # fail closed, as the daily budget does
        _unreadable(exc, force, "team")
        return
    spent = check.spent + check.reserved
    who = ", ".join(
        f"{user} {_fmt_credits(credits)}"
        for user, credits in sorted(check.by_user.items(), key=lambda item: (-item[1], item[0]))
    )
    held = f" + {_fmt_credits(check.reserved)} reserved" if check.reserved else ""
    summary = (
        f"{_fmt_credits(spent)} of {_fmt_credits(budget)} credits spent by the team today "
        f"(UTC): {who or 'nobody'}{held}"
    )
    _judge(session, f"team:{today}", summary, spent, budget, "team_budget_credits",
           force=force, demo=demo)  # fmt: skip


def _raised(budget: float, spent: float) -> float:
    """A suggestion for a new budget: double, and at least 20 % above what was spent."""
    return float(max(budget * 2, round(spent * 1.2 + 0.5)))


def usage_line(
    kind: str,
    *,
    tokens: int | None = None,
    credits: float | None = None,
    tokens_estimate: int | None = None,
    credits_estimate: float | None = None,
    demo: bool = False,
) -> str:
    """One line for under an output: this call's tokens and credits and today's totals.

    `kind` is "chat", "image" or "video"; "" when the ledger is off (nothing to total).
    Today's totals are those of real calls, or for a `demo` call those of demo calls.
    """
    if not _ledger.enabled():
        return ""
    try:
        today = _ledger.today_totals(demo=demo)
    except Exception:  # an unreadable ledger must not break the output it annotates
        return ""
    this: list[str] = []
    if tokens is not None:
        this.append(f"{tokens:,} tokens")
    elif tokens_estimate is not None:
        this.append(f"≈{tokens_estimate:,} tokens received (est.)")
    this.append(credits_text(credits, credits_estimate))
    calls = "call" if today.calls == 1 else "calls"
    day = f"today: {today.calls:,} {calls}, {today.tokens:,} tokens, {_today_credits(today)}"
    return f"this call: {', '.join(this)} · {day}"


def credits_text(credits: float | None, estimate: float | None = None) -> str:
    """ "2 credits", "≈0.013 credits (est.)" or "credits not reported"."""
    if credits is not None:
        return f"{_fmt_credits(credits)} credits"
    if estimate is not None:
        return f"≈{_fmt_estimate(estimate)} credits (est.)"
    return "credits not reported"


def _fmt_estimate(value: float) -> str:
    """An estimate with a few significant digits: small chat prices are fractions."""
    return f"{value:.3g}" if 0 < abs(value) < 1 else _fmt_credits(value)


def _today_credits(today: _ledger.Totals) -> str:
    """Reported credits, and how many calls reported none (with their estimate, if any)."""
    estimate = f" (≈{_fmt_estimate(today.estimated)} est.)" if today.estimated else ""
    if not today.unreported:
        return f"{_fmt_credits(today.credits)} credits"
    if today.unreported >= today.calls:
        return f"credits not reported{estimate}"
    return (
        f"{_fmt_credits(today.credits)} credits + {today.unreported:,} "
        f"{'call' if today.unreported == 1 else 'calls'} not reported{estimate}"
    )
