"""The one line `%load_ext yjnb` prints: demo mode, or how to give a key when there is none.

It reads the settings only (`yjnb._config`): loading the extension imports no httpx.
"""

from __future__ import annotations

from .session import Session

__all__ = ["print_key_hint"]


def print_key_hint(session: Session) -> None:
    """Say once how to give a key when there is none (or that this is a demo)."""
    try:
        settings = session.current_settings(None, start_demo=False)
    except Exception as exc:  # a broken config file must not break %load_ext
        print(f"yjnb: {type(exc).__name__}: {exc}")
        return
    if settings.demo:
        print("yjnb: demo mode: the embedded emulator answers, no key or network needed.")
    elif not settings.api_key:
        print(
            f"yjnb: no API key for profile {settings.profile!r}. Give one with "
            f"{settings.key_env}=... in the environment or in a .env file, or run "
            "%yj_config --key (asked hidden, kept in this kernel only); "
            "or try %yj_config --demo."
        )
