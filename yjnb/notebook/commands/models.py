"""%yj_models: a table of the models of a profile's catalog, plus its live model list.

`%yj_models -p PROFILE` lists the catalog of that profile's protocol (the Yuanjing models, or
the OpenAI-style ones for openai and gateway profiles) with each model's parameters and
allowed values, and marks which are on the service's live list; live models the catalog does
not know are listed too (their parameters are sent unchecked). The table is a pandas
DataFrame put in `_yj`, shown in full with its text left-aligned (`views/models_table.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from ... import protocols
from ..protocols import check_platform_option, protocol_of
from ..views.models_table import models_bundle

if TYPE_CHECKING:
    from ..._catalog import Catalog
    from ..session import Session

__all__ = ["run_models"]


def _describe(param: Any) -> str:
    """One parameter: `duration: 1–16 (default 5)`, `ratio: 16:9|9:16`, `images: ≤9 files`."""
    if param.choices:
        allowed = "|".join(str(c) for c in param.choices)
    elif param.type == "int":
        low = "" if param.min is None else str(param.min)
        allowed = f"{low}–{param.max}" if param.max is not None else f"≥{low or 0} (int)"
    elif param.type == "yn":
        allowed = "Y|N"
    elif param.type == "size":
        allowed = "ratio (16:9) or WxH (1024x1024)"
    elif param.type == "file":
        allowed = "file or URL" if param.accepts_url else "file"
    elif param.type == "files":
        allowed = f"≤{param.max_files} files" if param.max_files else "files"
    else:
        allowed = "text"
    extras = []
    if param.required:
        extras.append("required")
    if param.default not in (None, ""):
        extras.append(f"default {param.default}")
    if getattr(param, "needs", None):
        extras.append(f"needs {param.needs}")
    return f"{param.name}: {allowed}" + (f" ({', '.join(extras)})" if extras else "")


def run_models(session: Session, args: Any) -> None:
    """The catalog's models plus the live list: a DataFrame, shown in full and put in `_yj`."""
    import pandas as pd
    from IPython.display import display

    from ..._catalog_types import CATELOGS

    settings = session.profile_settings(args.profile, args.platform)
    check_platform_option(settings, args.platform)
    catalog = protocol_of(settings).catalog
    known_catelogs = [c for c in CATELOGS if catalog.specs(c)]
    catelog = args.catelog
    if catelog and catelog not in known_catelogs:
        raise UsageError(f"unknown catelog {catelog!r}; known: {', '.join(known_catelogs)}")
    live, note, demo = _live_models(session, args, catelog)
    live_ids = {model for model, _ in live}
    rows, untyped = _rows(catelog, catalog, live)
    frame = pd.DataFrame(
        rows,
        columns=["model", "catelog", "vendor", "description", "parameters", "catalog", "live"],
    )
    total = f"{len(frame)} models ({len(live_ids)} on the live list)"
    if catalog is not protocols.get(protocols.NAMES[0]).catalog:  # say which, if not the usual
        where = settings.protocol
        if settings.platform:
            where += f", platform {settings.platform}"
        total += f" · {catalog.name} catalog ({where})"
    if untyped:
        total += f" · {untyped} more live models of unknown catelog (%yj_models without one)"
    demo_note = "demo mode (embedded emulator)" if demo else ""
    print(" · ".join(p for p in (total, note, demo_note, "the table is in _yj") if p))
    session.shell.user_ns["_yj"] = frame
    display(models_bundle(frame), raw=True)  # in full, text columns left-aligned


def _live_models(
    session: Session, args: Any, catelog: str | None
) -> tuple[dict[tuple[str, str | None], Any], str, bool]:
    """(the live list by (model, catelog), a note if it is unavailable, demo mode or not)."""
    from ..._errors import YJError

    live: dict[tuple[str, str | None], Any] = {}
    note = ""
    try:
        client = session.client(args.profile, args.platform)
        for info in client.models(catelog):
            live[(info.id, info.catelog)] = info
        demo = client.settings.demo
    except YJError as exc:
        note = f"live list unavailable ({type(exc).__name__}: {' '.join(str(exc).split())})"
        demo = bool(session.demo)
    return live, note, demo


def _rows(
    catelog: str | None, catalog: Catalog, live: dict[tuple[str, str | None], Any]
) -> tuple[list[tuple[Any, ...]], int]:
    """(the table's rows: the catalog's models, then the live ones it does not know; the
    count of live models left out for want of a catelog). Takes the known ones off `live`."""
    rows = []
    for s in catalog.specs(catelog):
        params = "; ".join(_describe(p) for p in s.params)
        if s.catelog == "t2t":
            params = "any chat parameter: temperature=, top_p=, max_tokens=, ..."
        on_live = (s.id, s.catelog) in live or (s.id, None) in live
        rows.append((s.id, s.catelog, s.vendor, s.description, params, True, on_live))
        live.pop((s.id, s.catelog), None)
    known = {(r[0], r[1]) for r in rows}
    untyped = 0
    for (model, cat), info in live.items():
        if (model, cat) in known or (cat is None and model in {r[0] for r in rows}):
            continue
        if catelog and cat is None:  # the live list does not say: shown without a catelog
            untyped += 1
            continue
        params = "unknown to yjnb: parameters are sent unchecked"
        vendor, about = info.vendor or "", info.description or ""
        rows.append((model, cat or "?", vendor, about, params, False, True))
    return rows, untyped
