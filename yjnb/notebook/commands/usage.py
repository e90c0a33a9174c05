"""`%yj_usage [--by model|kind|day|profile] [--since DATE] [-p PROFILE] [--plot] [--demo]`:
what was spent, on what, from the usage ledger; `--plot` charts credits and tokens over time.
Real calls only; `--demo` shows the calls made in demo mode (the emulator) instead."""

from __future__ import annotations

import argparse
import io
from datetime import datetime
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from ... import ledger as _ledger
from ..services.budget import ledger_active

if TYPE_CHECKING:
    from ..session import Session

__all__ = ["run_usage"]


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return _ledger.parse_since(text)
    except ValueError:
        raise UsageError(
            f"--since {text!r} is not a date: use YYYY-MM-DD (UTC), an ISO time or 'today'"
        ) from None


def run_usage(session: Session, args: argparse.Namespace) -> None:
    """`-p` keeps the calls made with that profile (by name, as the ledger noted it: a profile
    removed from the config file since still has its rows)."""
    since = _since(args.since)
    profile = getattr(args, "profile", None)
    demo = bool(getattr(args, "demo", False))
    ledger = _ledger.default_ledger()
    if not ledger_active(session):
        print("The usage ledger is off (YJMagics.ledger / YJ_LEDGER); showing what it holds.")
    frame = ledger.frame(since=since, demo=demo)
    if profile and not frame.empty:
        frame = frame[frame["profile"] == profile]
    if frame.empty:
        where = f" since {since:%Y-%m-%d %H:%M} UTC" if since else ""
        where += f" for profile {profile!r}" if profile else ""
        what = "demo calls" if demo else "calls"
        hint = "" if demo else " (demo-mode calls: %yj_usage --demo)"
        print(f"No {what} recorded{where} in {ledger.path}{hint}.")
        return
    if demo:
        print("Calls made in demo mode (the demo emulator): nothing was paid for them.")
    from ...ledger._frame import summarize

    _show(session, summarize(frame, args.by))
    if args.plot:
        _show(session, _plot(frame))


def _show(session: Session, obj: Any) -> None:
    """Display through the session's own shell (the kernel's, or a test's), HTML and text."""
    data, metadata = session.shell.display_formatter.format(obj)
    session.shell.display_pub.publish(data=data, metadata=metadata)


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
