"""Profiles: named endpoints, built in or in `YJ_HOME/config.toml`, read and written here.

    [profiles.gw]
    base_url = "https://gw.example"
    key_env = "GW_KEY"          # the key itself stays in this variable, never in the file
    protocol = "gateway"        # yuanjing, yuanjing-legacy, openai or gateway
    platform = "google"         # the gateway's /{platform}/v1
    ledger_url = "postgresql://ledger.internal/yjnb"   # a shared team ledger (optional)

The file is checked completely when read (unknown settings, key-like entries, protocols,
URLs) and before it is written, so a broken edit is refused rather than saved.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import protocols
from ._errors import ConfigError

__all__ = [
    "BUILTIN_PROFILES",
    "DEFAULT_BASE_URL",
    "DEFAULT_PROFILE",
    "Profile",
    "check_platform",
    "load_profiles",
    "normalise_protocol",
    "normalise_url",
    "one_line",
    "read_config",
    "save_profile",
]

DEFAULT_BASE_URL = "https://opencomputing.ai"
DEFAULT_PROFILE = "yuanjing"
_KEYLIKE = frozenset({"api_key", "apikey", "api-key", "key", "yj_api_key", "token", "secret"})
_PROFILE_FIELDS = ("base_url", "key_env", "protocol", "platform", "demo", "ledger_url")
_LEDGER_SCHEMES = ("postgresql://", "postgres://")
_NAME = re.compile(r"[A-Za-z0-9_-]+")
_PLATFORM = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class Profile:
    """A named endpoint. `base_url` "" (the demo profile): the client's emulator fills it in."""

    name: str
    base_url: str
    key_env: str = "YJ_API_KEY"
    protocol: str = "yuanjing"
    platform: str = ""  # the gateway's `/{platform}/v1`; empty for the other protocols
    demo: bool = False
    ledger_url: str = ""  # a shared PostgreSQL ledger; "" the local file under YJ_HOME


BUILTIN_PROFILES: dict[str, Profile] = {
    "yuanjing": Profile("yuanjing", DEFAULT_BASE_URL),
    # The older API: /llmage/video and /llmage/tasks, models chosen by `llmid`.
    "legacy": Profile("legacy", DEFAULT_BASE_URL, protocol="yuanjing-legacy"),
    # The client uses the demo emulator (started if needed: `_demo`) and takes its URL and key.
    "demo": Profile("demo", "", demo=True),
}


def load_profiles(home: Path) -> dict[str, Profile]:
    """The built-in profiles merged with those of `home/config.toml`."""
    return read_config(Path(home))[0]


def _read_toml(path: Path, text: str | None = None) -> dict[str, Any]:
    """Parse `path` (or `text`, the would-be content of `path`); a missing file is empty."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    try:
        return tomllib.loads(path.read_text(encoding="utf-8") if text is None else text)
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read {path}: {one_line(exc)}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Cannot parse {path}: {one_line(exc)}") from None


def read_config(home: Path, text: str | None = None) -> tuple[dict[str, Profile], str | None]:
    """(every profile, built in and from the file; the file's default_profile or None).
    `text` stands for the file's content (to check an edit before writing it)."""
    path = home / "config.toml"
    data = _read_toml(path, text)
    _reject_keys(data, path, "")
    profiles = dict(BUILTIN_PROFILES)
    tables = data.get("profiles", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"'profiles' in {path} must be a table: [profiles.NAME]")
    for name, table in tables.items():
        where = f"[profiles.{name}] in {path}"
        if not isinstance(table, dict):
            raise ConfigError(f"{where} must be a table of {', '.join(_PROFILE_FIELDS)}")
        _reject_keys(table, path, f"[profiles.{name}] ")
        unknown = sorted(set(table) - set(_PROFILE_FIELDS))
        if unknown:
            raise ConfigError(
                f"Unknown setting {unknown[0]!r} in {where}; known: {', '.join(_PROFILE_FIELDS)}"
            )
        base = BUILTIN_PROFILES.get(name, BUILTIN_PROFILES[DEFAULT_PROFILE])
        values: dict[str, Any] = {k: getattr(base, k) for k in _PROFILE_FIELDS}
        for key, value in table.items():
            want = bool if key == "demo" else str
            if not isinstance(value, want):
                raise ConfigError(f"{key} in {where} must be a {want.__name__}, not {value!r}")
            values[key] = value
        values["protocol"] = normalise_protocol(values["protocol"], where)
        if values["platform"]:
            check_platform(values["platform"], where)
        if values["ledger_url"] and not values["ledger_url"].startswith(_LEDGER_SCHEMES):
            raise ConfigError(f"ledger_url in {where} must start with postgresql://")
        if not values["key_env"]:
            raise ConfigError(f"key_env in {where} must name an environment variable")
        values["base_url"] = normalise_url(values["base_url"], where, allow_empty=values["demo"])
        profiles[name] = Profile(name=name, **values)
    default = data.get("default_profile")
    if default is not None and (not isinstance(default, str) or default not in profiles):
        raise ConfigError(
            f"default_profile {default!r} in {path} is not a profile; known profiles: "
            f"{', '.join(sorted(profiles))}"
        )
    return profiles, default


def normalise_protocol(value: str, source: str) -> str:
    """The canonical protocol name (`legacy` -> `yuanjing-legacy`); ConfigError if unknown."""
    name = protocols.canonical(value)
    if name is None:
        raise ConfigError(
            f"Unknown protocol {value!r} (from {source}); known: {', '.join(protocols.NAMES)}"
        )
    return name


def check_platform(value: str, source: str) -> str:
    """A gateway platform name goes into the URL path, so it must be a plain word."""
    if not _PLATFORM.fullmatch(value):
        raise ConfigError(
            f"platform {value!r} (from {source}) must be a plain name of letters, digits, "
            "'-', '_' or '.', as in /{platform}/v1"
        )
    return value


def _reject_keys(table: Mapping[str, Any], path: Path, where: str) -> None:
    for key in table:
        if key.lower() in _KEYLIKE:
            raise ConfigError(
                f"{where}{key!r} in {path}: API keys are never read from the config file; "
                "remove it and put the key in an environment variable or a .env file "
                "(YJ_API_KEY, or the profile's key_env)"
            )


def normalise_url(url: str, source: str, *, allow_empty: bool = False) -> str:
    url = url.strip().rstrip("/")
    if not url and allow_empty:
        return ""
    if not url.lower().startswith(("http://", "https://")):
        raise ConfigError(f"base_url {url!r} (from {source}) must start with http:// or https://")
    return url


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


# -- saving -------------------------------------------------------------------------------------


def save_profile(home: Path, profile: Profile, *, make_default: bool = False) -> Path:
    """Add or replace `[profiles.NAME]` in `home/config.toml`, keeping the rest of the file.

    Only the profile's fields are written, never a key (the key stays in `key_env`).
    `make_default=True` also sets `default_profile`. Returns the file's path.
    """
    home = Path(home)
    path = home / "config.toml"
    n = profile.name
    if not _NAME.fullmatch(n):
        raise ConfigError(f"Profile name {n!r} may only use letters, digits, '-' and '_'")
    profile = dataclasses.replace(
        profile, protocol=normalise_protocol(profile.protocol, f"profile {n!r}")
    )
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    read_config(home, text)  # the file must be valid before it is edited
    block = (
        f"[profiles.{n}]\nbase_url = {_toml_str(profile.base_url)}\n"
        f"key_env = {_toml_str(profile.key_env)}  # the key itself stays in this variable\n"
        f"protocol = {_toml_str(profile.protocol)}\n"
        + (f"platform = {_toml_str(profile.platform)}\n" if profile.platform else "")
        + ("demo = true\n" if profile.demo else "")
        + (f"ledger_url = {_toml_str(profile.ledger_url)}\n" if profile.ledger_url else "")
    )
    table = re.compile(r"^[ \t]*\[", re.MULTILINE)
    header = re.compile(
        rf"^[ \t]*\[[ \t]*profiles[ \t]*\.[ \t]*(\"{n}\"|'{n}'|{n})[ \t]*\][ \t]*(#.*)?$",
        re.MULTILINE,
    )
    if match := header.search(text):
        nxt = table.search(text, match.end())
        text = text[: match.start()] + block + (f"\n{text[nxt.start() :]}" if nxt else "")
    else:
        text = (text.rstrip("\n") + "\n\n" if text.strip() else "") + block
    if make_default:
        line = f"default_profile = {_toml_str(n)}"
        first = table.search(text)
        top, rest = (text[: first.start()], text[first.start() :]) if first else (text, "")
        top, count = re.subn(r"(?m)^[ \t]*default_profile[ \t]*=.*$", line, top, count=1)
        text = (top if count else f"{line}\n\n{top}") + rest
    # Validate the new content (key-like entries, protocol, URL...) before writing it.
    saved = read_config(home, text)[0].get(n)
    if saved is None or dataclasses.replace(saved, base_url=profile.base_url) != profile:
        raise ConfigError(f"Could not update {path}: edit [profiles.{n}] by hand")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def _toml_str(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + "".join(c if " " <= c != "\x7f" else f"\\u{ord(c):04x}" for c in escaped) + '"'
