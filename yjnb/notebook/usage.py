"""`%yj_usage`, the credit budgets and the usage line under each output.

For the other magics (a contract):

* `check_budget(magics, force=args.force)` before any paid request: warns at 80 % of a
  budget, raises a one-line `UsageError` beyond it unless `--force`.
* `usage_line(kind, tokens=..., credits=...)` after the call: "this call: 36 tokens · today:
  12 calls, 1,234 tokens, 12.5 credits", or "" when the ledger is off. Plain text: escape it.
"""

from __future__ import annotations

import argparse
import io
import sys
from datetime import datetime, timezone
from typing import Any

from IPython.core.error import UsageError

from .. import ledger as _ledger

__all__ = ["check_budget", "run_usage", "usage_line"]

WARN_AT = 0.8


def _fmt_credits(value: float) -> str:
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return text or "0"


def _active(magics: Any) -> bool:
    return bool(getattr(magics, "ledger", True)) and _ledger.enabled()


def check_budget(magics: Any, *, force: bool) -> None:
    """Before a paid call: warn at 80 % of a credit budget, refuse beyond it unless `force`.

    `YJMagics.budget_credits` is per UTC day, over every kernel writing to the same ledger;
    `YJMagics.session_budget_credits` counts this process only. 0 means no budget.
    """
    daily = float(magics.budget_credits or 0)
    session = float(magics.session_budget_credits or 0)
    if (daily <= 0 and session <= 0) or not _active(magics):
        return
    today = datetime.now(timezone.utc).date().isoformat()
    checks: list[tuple[str, str, float, float, str]] = []
    if daily > 0:
        try:
            # Fresh: the in-memory tally may lag other kernels' spending by a moment.
            spent = _ledger.today_totals(fresh=True).credits
        except Exception as exc:  # fail closed: a budget that cannot be read is not a pass
            if force:
                return
            raise UsageError(
                f"Cannot read the usage ledger to check the daily budget ({exc}); "
                "add --force to run this call anyway"
            ) from None
        checks.append((f"day:{today}", "today (UTC)", spent, daily, "budget_credits"))
    if session > 0:
        spent = _ledger.session_totals().credits
        checks.append(("session", "this session", spent, session, "session_budget_credits"))
    warned: set[tuple[str, float]] = magics.state.setdefault("ledger_budget_warned", set())
    for key, when, spent, budget, trait in checks:
        summary = f"{_fmt_credits(spent)} of {_fmt_credits(budget)} credits spent {when}"
        if spent >= budget:
            if force:
                print(
                    f"yjnb: budget exceeded ({summary}); running anyway (--force)", file=sys.stderr
                )
                continue
            raise UsageError(
                f"Credit budget reached: {summary}. Raise it with "
                f"%config YJMagics.{trait} = {_fmt_credits(_raised(budget, spent))} "
                "or add --force to run this call anyway"
            )
        if spent >= WARN_AT * budget and (key, budget) not in warned:
            warned.add((key, budget))
            print(
                f"yjnb: {spent / budget:.0%} of the credit budget used ({summary}; "
                f"YJMagics.{trait})",
                file=sys.stderr,
            )


def _raised(budget: float, spent: float) -> float:
    """A suggestion for a new budget: double, and at least 20 % above what was spent."""
    return float(max(budget * 2, round(spent * 1.2 + 0.5)))


def usage_line(kind: str, *, tokens: int | None = None, credits: float | None = None) -> str:
    """One line for under an output: this call's tokens or credits and today's totals.

    `kind` is "chat", "image" or "video"; "" when the ledger is off (nothing to total).
    """
    if not _ledger.enabled():
        return ""
    try:
        today = _ledger.today_totals()
    except Exception:  # an unreadable ledger must not break the output it annotates
        return ""
    this: list[str] = []
    if tokens is not None:
        this.append(f"{tokens:,} tokens")
    if credits is not None:
        this.append(f"{_fmt_credits(credits)} credits")
    if not this and kind != "chat":
        this.append("credits not reported")
    calls = "call" if today.calls == 1 else "calls"
    day = f"today: {today.calls:,} {calls}, {today.tokens:,} tokens, "
    day += f"{_fmt_credits(today.credits)} credits"
    return f"this call: {', '.join(this)} · {day}" if this else day


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return _ledger.parse_since(text)
    except ValueError:
        raise UsageError(
            f"--since {text!r} is not a date: use YYYY-MM-DD (UTC), an ISO time or 'today'"
        ) from None


def run_usage(magics: Any, args: argparse.Namespace) -> None:
    """`%yj_usage [--by model|kind|day|profile] [--since DATE] [-p PROFILE] [--plot]`.

    `-p` keeps the calls made with that profile (by name, as the ledger noted it: a profile
    removed from the config file since still has its rows)."""
    since = _since(args.since)
    profile = getattr(args, "profile", None)
    ledger = _ledger.default_ledger()
    if not _active(magics):
        print("The usage ledger is off (YJMagics.ledger / YJ_LEDGER); showing what it holds.")
    frame = ledger.frame(since=since)
    if profile and not frame.empty:
        frame = frame[frame["profile"] == profile]
    if frame.empty:
        where = f" since {since:%Y-%m-%d %H:%M} UTC" if since else ""
        where += f" for profile {profile!r}" if profile else ""
        print(f"No calls recorded{where} in {ledger.path}.")
        return
    from ..ledger._frame import summarize

    _show(magics, summarize(frame, args.by))
    if args.plot:
        _show(magics, _plot(frame))


def _show(magics: Any, obj: Any) -> None:
    """Display through the magics' own shell (the kernel's, or a test's), HTML and text."""
    data, metadata = magics.shell.display_formatter.format(obj)
    magics.shell.display_pub.publish(data=data, metadata=metadata)


def _plot(frame: Any) -> Any:
    """Credits and tokens per day (per hour when everything is within two days), as a PNG."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise UsageError("--plot needs matplotlib: pip install matplotlib") from None
    from IPython.display import Image

    times = frame["started_at"]
    hourly = (times.max() - times.min()).total_seconds() < 2 * 86400
    bucket = times.dt.floor("h" if hourly else "D").dt.tz_localize(None)
    per = (
        frame.assign(bucket=bucket)
        .groupby("bucket")
        .agg(credits=("credits", "sum"), tokens=("total_tokens", "sum"))
    )
    # A bare Figure (no pyplot): no global backend state, no stray figure in the kernel.
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    width = (1 / 24 if hourly else 1) * 0.8
    top.bar(per.index, per["credits"], width=width, color="#d9822b")
    top.set_ylabel("credits")
    bottom.bar(per.index, per["tokens"].astype("float64"), width=width, color="#2b7bd9")
    bottom.set_ylabel("tokens")
    bottom.set_xlabel("hour (UTC)" if hourly else "day (UTC)")
    fig.suptitle("yjnb usage")
    fig.autofmt_xdate()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=96)
    return Image(data=buffer.getvalue(), format="png")
