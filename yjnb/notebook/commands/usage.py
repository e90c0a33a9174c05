"""`%yj_usage [--by model|kind|day|profile|user|host] [--since DATE] [-p PROFILE] [--plot]
[--demo]`: what was spent, on what, from the usage ledger; `--plot` charts credits and tokens
over time. Real calls only; `--demo` shows the calls made in demo mode (the emulator) instead.

Credits the platform did not report (chat on Yuanjing) show as "not reported", never 0;
estimates from the user's price table (`yjnb._prices`) are a column of their own, marked
"≈ … est.", and hatched bars on the plot. Each bar covers its hour or day.
"""

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
    # Grouped by the database (GROUP BY): no row is loaded, whatever the ledger's size.
    summary = ledger.summary(args.by, since, demo=demo, profile=profile or None)
    if summary.empty:
        where = f" since {since:%Y-%m-%d %H:%M} UTC" if since else ""
        where += f" for profile {profile!r}" if profile else ""
        what = "demo calls" if demo else "calls"
        hint = "" if demo else " (demo-mode calls: %yj_usage --demo)"
        print(f"No {what} recorded{where} in {ledger.where}{hint}.")
        return
    if demo:
        print("Calls made in demo mode (the demo emulator): nothing was paid for them.")
    import pandas as pd

    with pd.option_context("display.max_columns", None, "display.width", 200):
        _show(session, readable(summary))  # every column, also as text
    if args.plot:
        _show(session, _plot(ledger.timeline(since, demo=demo, profile=profile or None)))


def readable(summary: Any) -> Any:
    """The summary for reading: "not reported" for unknown credits, estimates marked, the
    estimate column only when there is an estimate (the ledger's frame keeps the numbers)."""
    out = summary.copy()
    estimates = out.pop("credits_estimate")
    out["credits"] = [
        "not reported" if value != value else _number(value)  # NaN: not reported
        for value in out["credits"]
    ]
    if estimates.notna().any():
        column = ["" if v != v else f"≈{_number(v, estimate=True)} est." for v in estimates]
        out.insert(out.columns.get_loc("credits") + 1, "credits_estimate", column)
    return out


def _number(value: float, *, estimate: bool = False) -> str:
    if estimate and 0 < abs(value) < 1:
        return f"{value:.3g}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _show(session: Session, obj: Any) -> None:
    """Display through the session's own shell (the kernel's, or a test's), HTML and text."""
    data, metadata = session.shell.display_formatter.format(obj)
    session.shell.display_pub.publish(data=data, metadata=metadata)


def _plot(per: Any) -> Any:
    """Credits and tokens per day (per hour when everything is within two days), as a PNG."""
    try:
        figure = usage_figure(per)
    except ImportError:
        raise UsageError("--plot needs matplotlib: pip install matplotlib") from None
    from IPython.display import Image

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96)
    return Image(data=buffer.getvalue(), format="png")


def usage_figure(per: Any) -> Any:
    """The chart as a matplotlib `Figure`: one bar per bucket, from its start to its end.
    `per` is `Ledger.timeline()`: credits, estimate and tokens per hour or day."""
    from matplotlib.figure import Figure

    hourly = per.index.name == "hour"
    # A bare Figure (no pyplot): no global backend state, no stray figure in the kernel.
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    # A bar starts where its bucket starts and nearly fills it: calls made at 16:31 are
    # drawn over 16:00-17:00 (a centred bar would straddle 15:30-16:30).
    width = (1 / 24 if hourly else 1.0) * 0.9
    top.bar(per.index, per["credits"], width=width, align="edge", color="#d9822b",
            label="reported")  # fmt: skip
    if per["estimate"].any():
        top.bar(per.index, per["estimate"], width=width, align="edge", bottom=per["credits"],
                color="none", edgecolor="#d9822b", hatch="//", label="≈ estimated")  # fmt: skip
        top.legend(loc="upper left", fontsize="small")
    top.set_ylabel("credits")
    bottom.bar(per.index, per["tokens"].astype("float64"), width=width, align="edge",
               color="#2b7bd9")  # fmt: skip
    bottom.set_ylabel("tokens")
    bottom.set_xlabel("hour (UTC)" if hourly else "day (UTC)")
    fig.suptitle("yjnb usage")
    fig.autofmt_xdate()
    return fig
