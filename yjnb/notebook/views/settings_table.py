"""The settings table of %yj_config: profile, base URL, protocol, key (masked), models, files.

Every value says where it came from (an argument or `-p`, `%yj_config`, `%config`, an
environment variable or `.env`, a profile built in or in the config file, the demo emulator,
a default). The key is shown masked only (`Secret.mask()`). The default models
shown are those that apply to the profile's protocol (`protocols.default_model`); for a
gateway the platform is shown too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..._config import Settings
from ..._demo import STATE_FILE
from ..protocols import default_model, protocol_of
from .html import esc

if TYPE_CHECKING:
    from ..session import Session

__all__ = ["show_settings"]


def _key_line(session: Session, s: Settings) -> str:
    if s.demo and not s.base_url:  # not started yet: its URL and key come with it
        return "the demo emulator's (none needed)"
    if not s.api_key:
        return (
            f"not set: put {s.key_env}=... in the environment or a .env file, "
            "or run %yj_config --key"
        )
    source = s.key_source or "?"
    if source == f"env {s.key_env}" and s.key_env in session.keys_entered:
        source = f"%yj_config --key ({s.key_env}, this kernel only)"
    return f"{s.api_key.mask()} (from {source})"


def _model_row(session: Session, s: Settings, kind: str, label: str, trait: str) -> tuple[str, str]:
    model = default_model(session.options, kind, s)
    if not getattr(session.options, trait):
        return label, f"{model} ({s.protocol} default; %config YJMagics.{trait} to change)"
    return label, f"{model} (%config YJMagics.{trait})"


def _url_line(s: Settings) -> str:
    if s.demo and not s.base_url:
        return "the demo emulator's, once it runs (one process per YJ_HOME)"
    return f"{s.base_url} (from {s.sources.get('base_url', 'demo emulator')})"


def _ledger_line(s: Settings) -> str:
    """The local file, or the shared ledger's URL (its password masked) and where it came from."""
    from ..._config import _ledger_url_override, configured_ledger_url
    from ...ledger._dialect import safe_url

    url = configured_ledger_url()
    local = str(s.home / "ledger.sqlite")
    if not url:
        return local
    source = "%config YJMagics.ledger_url" if _ledger_url_override else s.sources.get("ledger_url")
    return f"{safe_url(url)} (shared; from {source or '?'}; queued in {local} if unreachable)"


def _mode_row(s: Settings) -> tuple[str, str]:
    """Demo or real, and what decided it (see `yjnb._config`: what is chosen in code or with
    %yj_config wins over YJ_DEMO)."""
    source = s.sources.get("demo", "?")
    if not s.demo:
        return "mode", f"real calls (from {source})"
    return "mode", f"DEMO: the demo emulator answers; no real calls, no charges (from {source})"


def show_settings(session: Session, s: Settings) -> None:
    """The settings `s` as one table (HTML, and aligned plain text)."""
    from IPython.display import display

    src = s.sources
    rows = [_mode_row(s)]
    rows += [
        ("profile", f"{s.profile} (from {src.get('profile', '?')})"),
        ("base URL", _url_line(s)),
        ("protocol", f"{s.protocol} (from {src.get('protocol', '?')})"),
    ]
    if protocol_of(s).supports("platform"):
        rows.append(("platform", f"{s.platform or '(none: set one)'} (the /{{platform}}/v1 part)"))
    rows += [
        ("API key", _key_line(session, s)),
        _model_row(session, s, "chat", "chat model", "model"),
        _model_row(session, s, "image", "image model", "image_model"),
        _model_row(session, s, "video", "video model", "video_model"),
        ("chat history", f"{session.options.max_history} exchanges (%config YJMagics.max_history)"),
        ("home", f"{s.home} (from {src.get('home', '?')})"),
        *([("state file", str(s.home / STATE_FILE))] if s.demo and s.base_url else []),
        ("config file", str(s.config_path)),
        ("ledger", _ledger_line(s)),
    ]
    width = max(len(k) for k, _ in rows)
    plain = "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
    body = "".join(
        f'<tr><th style="text-align: left">{esc(k)}</th>'
        f'<td style="text-align: left">{esc(v)}</td></tr>'
        for k, v in rows
    )
    display({"text/plain": plain, "text/html": f"<table>{body}</table>"}, raw=True)
