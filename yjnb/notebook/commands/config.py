"""%yj_config: show the settings; switch profile (`-p`) or demo mode (`--demo`); enter a key.

`%yj_config --add-profile NAME ...` writes a profile (`commands/profiles.py`). The settings
(`views/settings_table.py`) show the profile's protocol and, for a gateway, its platform, and
the default models that apply to it.

The key is shown masked only (`Secret.mask()`). `%yj_config --key` asks with `getpass` and
puts the key in this process's environment under the profile's `key_env` (`YJ_API_KEY` by
default): nothing is echoed, nothing is written to the notebook or to a file, and it is gone
when the kernel stops. Programs started from the kernel (`!cmd`) inherit it, as with any
environment variable.
"""

from __future__ import annotations

import getpass
import os
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from ..._config import Secret, load_settings
from ..views.settings_table import show_settings
from .profiles import add_profile

if TYPE_CHECKING:
    from ..session import Session

__all__ = ["run_config"]


def run_config(session: Session, args: Any) -> None:
    """Apply --add-profile, or --profile, --demo and --key (in that order); show the settings."""
    added = add_profile(session, args)
    if added is not None:
        label = "%yj_config --add-profile"
        show_settings(session, session.current_settings(added, start_demo=False, label=label))
        return
    if args.profile:
        load_settings(profile=args.profile)  # ConfigError (one line) for an unknown profile
        session.options.profile = args.profile
        session.profile_switched_to = args.profile
        session.demo = False
    if args.demo:
        session.current_settings(None, start_demo=False)  # a broken config fails first
        session.demo = True
        session.current_settings(None)  # starts the emulator now, not at the first call
    if args.profile or args.demo:
        session.forget_clients()
    if args.key:
        _enter_key(session)
    show_settings(session, session.current_settings(None))


def _enter_key(session: Session) -> None:
    s = load_settings(profile=session.options.profile or None)
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
    session.keys_entered.add(s.key_env)
    session.forget_clients()
    print(f"yjnb: key {Secret(key).mask()} set for profile {s.profile!r} (this kernel only)")
