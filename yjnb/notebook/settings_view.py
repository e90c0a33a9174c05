"""%yj_config (settings, key entry, demo mode, profiles) and %yj_models (the model table).

`%yj_config --add-profile NAME ...` writes a profile (`profiles_view.py`). The settings show
the profile's protocol and, for a gateway, its platform, and the default models that apply
to it. `%yj_models -p PROFILE` lists the catalog of that profile's protocol (the Yuanjing
models, or the OpenAI-style ones for openai and gateway profiles) plus its live model list.

The key is shown masked only (`Secret.mask()`). `%yj_config --key` asks with `getpass` and
puts the key in this process's environment under the profile's `key_env` (`YJ_API_KEY` by
default): nothing is echoed, nothing is written to the notebook or to a file, and it is gone
when the kernel stops. Programs started from the kernel (`!cmd`) inherit it, as with any
environment variable.
"""

from __future__ import annotations

import dataclasses
import getpass
import os
from typing import Any

from IPython.core.error import UsageError

from .._config import Secret, Settings, load_settings
from .html import esc
from .protocols import catalog_name, check_platform_option, default_model, profile_settings

__all__ = ["current_settings", "run_config", "run_models"]

KEYS_ENTERED = "keys_entered"  # magics.state: key_env names set by %yj_config --key


def current_settings(magics: Any, profile: str | None, *, start_demo: bool = True) -> Settings:
    """The settings a client made by `magics.client(profile)` would use, with or without a key.

    In demo mode the embedded emulator is started (unless `start_demo` is false) for its URL.
    """
    name = profile or magics.profile or None
    settings = load_settings(profile=name, demo=True if magics.demo else None)
    if settings.demo and start_demo:
        from .._demo import demo_endpoint

        url, key = demo_endpoint()
        settings = dataclasses.replace(
            settings,
            base_url=url,
            api_key=Secret(key),
            key_source="demo emulator",
            sources={**settings.sources, "base_url": "demo emulator"},
        )
    return settings


def _key_line(magics: Any, s: Settings) -> str:
    if not s.api_key:
        return (
            f"not set: put {s.key_env}=... in the environment or a .env file, "
            "or run %yj_config --key"
        )
    source = s.key_source or "?"
    if source == f"env {s.key_env}" and s.key_env in magics.state.get(KEYS_ENTERED, ()):
        source = f"%yj_config --key ({s.key_env}, this kernel only)"
    return f"{s.api_key.mask()} (from {source})"


def run_config(magics: Any, args: Any) -> None:
    """Apply --add-profile, or --profile, --demo and --key (in that order); show the settings."""
    from .profiles_view import add_profile

    added = add_profile(magics, args)
    if added is not None:
        _show(magics, current_settings(magics, added, start_demo=False))
        return
    if args.profile:
        load_settings(profile=args.profile)  # ConfigError (one line) for an unknown profile
        magics.profile = args.profile
        magics.demo = False
    if args.demo:
        current_settings(magics, None, start_demo=False)  # a broken config fails first
        magics.demo = True
        current_settings(magics, None)  # starts the emulator now, not at the first call
    if args.profile or args.demo:
        magics._clients.clear()
    if args.key:
        _enter_key(magics)
    _show(magics, current_settings(magics, None))


def _enter_key(magics: Any) -> None:
    s = load_settings(profile=magics.profile or None)
    try:
        key = getpass.getpass(
            f"API key for profile {s.profile!r} (hidden; kept in this kernel only): "
        )
    except (EOFError, KeyboardInterrupt):
        raise UsageError("no key entered; nothing changed") from None
    key = key.strip()
    if not key:
        raise UsageError("no key entered; nothing changed")
    os.environ[s.key_env] = key
    entered: set[str] = magics.state.setdefault(KEYS_ENTERED, set())
    entered.add(s.key_env)
    magics._clients.clear()
    print(f"yjnb: key {Secret(key).mask()} set for profile {s.profile!r} (this kernel only)")


def _model_row(magics: Any, s: Settings, kind: str, label: str, trait: str) -> tuple[str, str]:
    model = default_model(magics, kind, s.protocol, s.platform)
    if model != getattr(magics, trait):
        return label, f"{model} ({s.protocol} default; %config YJMagics.{trait} to change)"
    return label, f"{model} (%config YJMagics.{trait})"


def _show(magics: Any, s: Settings) -> None:
    from IPython.display import display

    rows: list[tuple[str, str]] = []
    if s.demo:
        rows.append(("mode", "DEMO: the embedded emulator answers; no real calls, no charges"))
    src = s.sources
    rows += [
        ("profile", f"{s.profile} (from {src.get('profile', '?')})"),
        ("base URL", f"{s.base_url} (from {src.get('base_url', 'demo emulator')})"),
        ("protocol", s.protocol),
    ]
    if s.protocol == "gateway":
        rows.append(("platform", f"{s.platform or '(none: set one)'} (the /{{platform}}/v1 part)"))
    rows += [
        ("API key", _key_line(magics, s)),
        _model_row(magics, s, "chat", "chat model", "model"),
        _model_row(magics, s, "image", "image model", "image_model"),
        _model_row(magics, s, "video", "video model", "video_model"),
        ("chat history", f"{magics.max_history} exchanges (%config YJMagics.max_history)"),
        ("home", str(s.home)),
        ("config file", str(s.config_path)),
        ("ledger", str(s.home / "ledger.sqlite")),
    ]
    width = max(len(k) for k, _ in rows)
    plain = "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
    body = "".join(
        f'<tr><th style="text-align: left">{esc(k)}</th>'
        f'<td style="text-align: left">{esc(v)}</td></tr>'
        for k, v in rows
    )
    display({"text/plain": plain, "text/html": f"<table>{body}</table>"}, raw=True)


# -- %yj_models -------------------------------------------------------------------------------


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


def run_models(magics: Any, args: Any) -> None:
    """The catalog's models plus the live list: a DataFrame, shown in full and put in `_yj`."""
    import pandas as pd
    from IPython.display import display

    from .._catalog import CATELOGS, specs
    from .._errors import YJError

    settings = profile_settings(magics, args.profile, args.platform)
    check_platform_option(settings, args.platform)
    catalog = catalog_name(settings.protocol)
    known_catelogs = [c for c in CATELOGS if specs(c, catalog=catalog)]
    catelog = args.catelog
    if catelog and catelog not in known_catelogs:
        raise UsageError(f"unknown catelog {catelog!r}; known: {', '.join(known_catelogs)}")
    live: dict[tuple[str, str | None], Any] = {}
    note = ""
    try:
        client = magics.client(args.profile, args.platform)
        for info in client.models(catelog):
            live[(info.id, info.catelog)] = info
        demo = client.settings.demo
    except YJError as exc:
        note = f"live list unavailable ({type(exc).__name__}: {' '.join(str(exc).split())})"
        demo = bool(magics.demo)
    live_ids = {model for model, _ in live}
    rows = []
    for s in specs(catelog, catalog=catalog):
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
    frame = pd.DataFrame(
        rows,
        columns=["model", "catelog", "vendor", "description", "parameters", "catalog", "live"],
    )
    total = f"{len(frame)} models ({len(live_ids)} on the live list)"
    if catalog != "yuanjing":
        where = settings.protocol
        if settings.platform:
            where += f", platform {settings.platform}"
        total += f" · {catalog} catalog ({where})"
    if untyped:
        total += f" · {untyped} more live models of unknown catelog (%yj_models without one)"
    demo_note = "demo mode (embedded emulator)" if demo else ""
    print(" · ".join(p for p in (total, note, demo_note, "the table is in _yj") if p))
    magics.shell.user_ns["_yj"] = frame
    with pd.option_context("display.max_colwidth", None, "display.max_rows", None):
        display(frame)
