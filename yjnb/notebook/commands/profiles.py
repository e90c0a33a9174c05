"""`%yj_config --add-profile NAME ...` (for `commands/config.py`): write a profile to the
config file from a notebook.

    %yj_config --add-profile oa --protocol openai --base-url https://llm.example --key-env OA_KEY
    %yj_config --add-profile gw --protocol gateway --base-url https://gw.example \\
               --key-env GW_KEY --platform google --default
    %yj_config --add-profile play --protocol openai --demo      # the embedded emulator

The profile goes to `YJ_HOME/config.toml` through `yjnb._config.save_profile`, which keeps
the rest of the file; the key never does (only the name of the variable holding it). Bad input
is a one-line UsageError and nothing is written. `--default` also makes it the config file's
default profile and switches this kernel to it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from IPython.core.error import UsageError

from ... import protocols
from ..._config import PROTOCOLS, Profile, check_platform, save_profile

if TYPE_CHECKING:
    from ..session import Session

__all__ = ["ADD_ONLY", "add_profile"]

# Options that only mean something with --add-profile (dest, as typed).
ADD_ONLY = (
    ("protocol", "--protocol"),
    ("base_url", "--base-url"),
    ("key_env", "--key-env"),
    ("platform", "--platform"),
    ("default", "--default"),
)
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _protocol(value: str | None) -> str:
    name = protocols.canonical(value or PROTOCOLS[0])
    if name is None:
        raise UsageError(
            f"unknown protocol {value!r}; use one of {', '.join(PROTOCOLS)} "
            "(legacy is an alias of yuanjing-legacy); nothing was written"
        )
    return name


def _base_url(value: str | None, protocol: str, demo: bool) -> str:
    if value is None:
        if demo:
            return ""
        own = protocols.get(protocol).default_base_url
        if own is not None:
            return own
        raise UsageError(
            f"an {protocol} profile needs --base-url URL (the service's address, e.g. "
            "https://api.example.com), or --demo for the embedded emulator; nothing was written"
        )
    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or " " in url:
        raise UsageError(
            f"--base-url {value!r} is not an http(s) URL like https://api.example.com; "
            "nothing was written"
        )
    return url.rstrip("/")


def _platform(value: str | None, protocol: str) -> str:
    if "platform" not in protocols.get(protocol).capabilities:
        if value is not None:
            raise UsageError(
                f"--platform is for gateway profiles; this one uses {protocol}; nothing was written"
            )
        return ""
    if not value or not value.strip():
        raise UsageError(
            "a gateway profile needs --platform P (the /{platform}/v1 part of its URLs, "
            "e.g. openai, google); nothing was written"
        )
    return check_platform(value.strip(), "--platform")


def _check_only_with_add(args: Any) -> None:
    if args.add_profile is None:
        for dest, option in ADD_ONLY:
            if getattr(args, dest) not in (None, False):
                raise UsageError(f"{option} goes with --add-profile NAME")
    elif args.profile:
        raise UsageError("give --add-profile NAME or --profile NAME, not both")


def add_profile(session: Session, args: Any) -> str | None:
    """Check the options, write the profile; returns its name (None without --add-profile)."""
    _check_only_with_add(args)
    if args.add_profile is None:
        return None
    name = args.add_profile.strip()
    protocol = _protocol(args.protocol)
    demo = bool(args.demo)
    key_env = (args.key_env or "YJ_API_KEY").strip()
    if not _VARIABLE.fullmatch(key_env):
        raise UsageError(
            f"--key-env {args.key_env!r} is not an environment variable name (letters, digits "
            "and _, e.g. OA_API_KEY); give the variable's name, never the key itself"
        )
    profile = Profile(
        name=name,
        base_url=_base_url(args.base_url, protocol, demo),
        key_env=key_env,
        protocol=protocol,
        platform=_platform(args.platform, protocol),
        demo=demo,
    )
    home = session.profile_settings(None).home
    path = save_profile(home, profile, make_default=bool(args.default))
    what = protocol + (f", platform {profile.platform}" if profile.platform else "")
    what += ", the embedded emulator" if demo else ""
    line = f"yjnb: profile {name!r} ({what}) saved in {path}"
    if args.default:
        session.options.profile, session.demo = name, False
        line += "; it is the default profile now"
    else:
        line += f"; use it with -p {name} or %yj_config --profile {name}"
    session.forget_clients()
    print(line)
    return name
