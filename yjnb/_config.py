"""Settings: the API key, base URL, home folder, profile, protocol and demo mode.

Sources, strongest first:

1. explicit arguments (`api_key=`, `base_url=`, `profile=`, `demo=`, `home=`);
2. the values of an explicitly chosen profile (`profile=` or `YJ_PROFILE`);
3. environment variables: `YJ_API_KEY` (or the profile's `key_env`), `YJ_BASE_URL`, `YJ_HOME`,
   `YJ_DEMO`, `YJ_PROFILE`;
4. a `.env` file in the working directory (never overriding a real environment variable);
5. the config file's `default_profile` (`YJ_HOME/config.toml`);
6. built-in defaults: profile `yuanjing`, `https://opencomputing.ai`, home `~/.yjnb`.

A profile also names its protocol (`yuanjing`, `yuanjing-legacy`, `openai` or `gateway`) and,
for the gateway, its platform; `protocol=` and `platform=` arguments override them.

The key is never written to the config file: a profile names the variable that holds it
(`key_env`). The key is held in a `Secret`, masked in every repr, str and format.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import protocols
from ._errors import ConfigError

__all__ = [
    "BUILTIN_PROFILES",
    "DEFAULT_BASE_URL",
    "PROTOCOLS",
    "Profile",
    "Secret",
    "Settings",
    "check_platform",
    "load_profiles",
    "load_settings",
    "normalise_protocol",
    "save_profile",
]

DEFAULT_BASE_URL = "https://opencomputing.ai"
DEFAULT_PROFILE = "yuanjing"
PROTOCOLS = protocols.NAMES
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})
_KEYLIKE = frozenset({"api_key", "apikey", "api-key", "key", "yj_api_key", "token", "secret"})
_PROFILE_FIELDS = ("base_url", "key_env", "protocol", "platform", "demo")
_NAME = re.compile(r"[A-Za-z0-9_-]+")
_PLATFORM = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*")


class Secret:
    """An API key. `reveal()` gives the value; repr, str and format show `mask()` only."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"Secret needs a str, not {type(value).__name__}")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def mask(self) -> str:
        """First 4 and last 4 characters ("sk-1…f9a2"); "****" if too short to hide the rest."""
        v = self._value
        return f"{v[:4]}…{v[-4:]}" if len(v) >= 16 else "****"

    def __repr__(self) -> str:
        return f"Secret({self.mask()!r})"

    def __str__(self) -> str:
        return self.mask()

    def __format__(self, spec: str) -> str:
        return format(self.mask(), spec)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        import hmac  # lazily: `import yjnb` stays cheap

        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True)
class Profile:
    """A named endpoint. `base_url` "" (the demo profile): the client's emulator fills it in."""

    name: str
    base_url: str
    key_env: str = "YJ_API_KEY"
    protocol: str = "yuanjing"
    platform: str = ""  # the gateway's `/{platform}/v1`; empty for the other protocols
    demo: bool = False


BUILTIN_PROFILES: dict[str, Profile] = {
    "yuanjing": Profile("yuanjing", DEFAULT_BASE_URL),
    # The older API: /llmage/video and /llmage/tasks, models chosen by `llmid`.
    "legacy": Profile("legacy", DEFAULT_BASE_URL, protocol="yuanjing-legacy"),
    # The client starts the embedded emulator and takes its URL and key.
    "demo": Profile("demo", "", demo=True),
}


@dataclass(frozen=True)
class Settings:
    """Resolved settings. The repr masks the key; `key_source` says where it came from."""

    api_key: Secret | None
    base_url: str
    home: Path
    profile: str = DEFAULT_PROFILE
    protocol: str = "yuanjing"
    platform: str | None = None  # gateway only
    demo: bool = False
    key_source: str | None = None  # "argument", "env YJ_API_KEY", ".env (/path/.env)"
    key_env: str = "YJ_API_KEY"
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.api_key, str):  # e.g. dataclasses.replace(s, api_key="...")
            object.__setattr__(self, "api_key", Secret(self.api_key))

    @property
    def config_path(self) -> Path:
        return self.home / "config.toml"

    def require_key(self) -> Secret:
        if not self.api_key:
            raise ConfigError(
                f"No API key for profile {self.profile!r}: pass api_key=..., set {self.key_env} "
                "(also read from a .env file), or run %yj_config --key"
            )
        return self.api_key


# -- loading ------------------------------------------------------------------------------------


def load_settings(
    *,
    api_key: str | Secret | None = None,
    base_url: str | None = None,
    profile: str | None = None,
    demo: bool | None = None,
    home: str | os.PathLike[str] | None = None,
    protocol: str | None = None,
    platform: str | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Resolve the settings from arguments, env vars, `.env`, the config file and defaults.

    `environ` (default `os.environ`) and `cwd` (default the working directory, where `.env` is
    looked for) exist so that tests never touch the real environment.
    """
    env = os.environ if environ is None else environ
    cwd = Path.cwd() if cwd is None else Path(cwd)
    dotenv_path = cwd / ".env"
    dotenv = _read_dotenv(dotenv_path)
    sources: dict[str, str] = {}

    def lookup(name: str) -> tuple[str, str] | None:
        """(value, source) of a variable: the real environment first, then `.env`."""
        if name in env:
            return env[name], f"env {name}"
        if name in dotenv:
            return dotenv[name], f".env ({dotenv_path})"
        return None

    # home: argument > YJ_HOME > ~/.yjnb (needed first: it holds the config file)
    if home is not None:
        home_path, sources["home"] = Path(home), "argument"
    elif (found := lookup("YJ_HOME")) and found[0]:
        home_path, sources["home"] = Path(found[0]), found[1]
    else:
        home_path, sources["home"] = Path("~/.yjnb"), "default"
    home_path = home_path.expanduser()
    if not home_path.is_absolute():
        home_path = cwd / home_path

    # profile: argument > YJ_PROFILE (explicit) > the config file's default_profile > yuanjing
    profiles, default_name = _load_config(home_path)
    explicit = True
    if profile is not None:
        name, sources["profile"] = profile, "argument"
    elif (found := lookup("YJ_PROFILE")) and found[0]:
        name, sources["profile"] = found
    else:
        explicit = False
        name = default_name or DEFAULT_PROFILE
        sources["profile"] = (
            f"default_profile in {home_path / 'config.toml'}" if default_name else "default"
        )
    if name not in profiles:
        raise ConfigError(
            f"Unknown profile {name!r} (from {sources['profile']}); known profiles: "
            f"{', '.join(sorted(profiles))}; add one to {home_path / 'config.toml'}"
        )
    prof = profiles[name]

    # demo: argument > explicit demo profile > YJ_DEMO > the default profile. An explicit
    # base_url argument names a server, so an ambient YJ_DEMO does not replace it.
    if demo is not None:
        is_demo, sources["demo"] = bool(demo), "argument"
    elif base_url is not None:
        is_demo, sources["demo"] = False, "argument base_url"
    elif explicit and prof.demo:
        is_demo, sources["demo"] = True, f"profile {name!r}"
    elif found := lookup("YJ_DEMO"):
        is_demo, sources["demo"] = _truthy(*found), found[1]
    else:
        is_demo, sources["demo"] = prof.demo, f"profile {name!r}"

    # base_url: argument > explicit profile > YJ_BASE_URL > the default profile
    env_url = None if explicit else lookup("YJ_BASE_URL")
    if base_url is not None:
        url, sources["base_url"] = base_url, "argument"
    elif env_url and env_url[0]:
        url, sources["base_url"] = env_url
    else:
        url, sources["base_url"] = prof.base_url, f"profile {name!r}"
        if not url and not is_demo:  # the demo profile, with demo switched off
            url, sources["base_url"] = DEFAULT_BASE_URL, "default"
    url = _normalise_url(url, sources["base_url"], allow_empty=is_demo)

    # key: argument > the profile's key_env in the environment > in .env
    key: Secret | None = None
    key_source: str | None = None
    if api_key:
        key, key_source = (api_key if isinstance(api_key, Secret) else Secret(api_key)), "argument"
    elif (found := lookup(prof.key_env)) and found[0].strip():
        key, key_source = Secret(found[0].strip()), found[1]

    # protocol and platform: argument > the profile
    proto = prof.protocol
    sources["protocol"] = f"profile {name!r}"
    if protocol is not None:
        proto, sources["protocol"] = normalise_protocol(protocol, "argument"), "argument"
    plat = prof.platform or None
    if platform is not None:
        plat = check_platform(platform, "argument")

    return Settings(
        api_key=key,
        base_url=url,
        home=home_path,
        profile=name,
        protocol=proto,
        platform=plat,
        demo=is_demo,
        key_source=key_source,
        key_env=prof.key_env,
        sources=sources,
    )


def load_profiles(home: Path) -> dict[str, Profile]:
    """The built-in profiles merged with those of `home/config.toml`."""
    return _load_config(Path(home))[0]


def _read_dotenv(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    try:
        values = dotenv_values(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read {path}: {_one_line(exc)}") from None
    return {k: v for k, v in values.items() if v is not None}


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
        raise ConfigError(f"Cannot read {path}: {_one_line(exc)}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Cannot parse {path}: {_one_line(exc)}") from None


def _load_config(home: Path, text: str | None = None) -> tuple[dict[str, Profile], str | None]:
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
        if not values["key_env"]:
            raise ConfigError(f"key_env in {where} must name an environment variable")
        values["base_url"] = _normalise_url(values["base_url"], where, allow_empty=values["demo"])
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
            f"Unknown protocol {value!r} (from {source}); known: {', '.join(PROTOCOLS)}"
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


def _normalise_url(url: str, source: str, *, allow_empty: bool = False) -> str:
    url = url.strip().rstrip("/")
    if not url and allow_empty:
        return ""
    if not url.lower().startswith(("http://", "https://")):
        raise ConfigError(f"base_url {url!r} (from {source}) must start with http:// or https://")
    return url


def _truthy(value: str, source: str) -> bool:
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ConfigError(
        f"YJ_DEMO={value!r} (from {source}) is not a yes/no value: "
        "use 1/true/yes/on or 0/false/no/off"
    )


def _one_line(exc: BaseException) -> str:
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
    _load_config(home, text)  # the file must be valid before it is edited
    block = (
        f"[profiles.{n}]\nbase_url = {_toml_str(profile.base_url)}\n"
        f"key_env = {_toml_str(profile.key_env)}  # the key itself stays in this variable\n"
        f"protocol = {_toml_str(profile.protocol)}\n"
        + (f"platform = {_toml_str(profile.platform)}\n" if profile.platform else "")
        + ("demo = true\n" if profile.demo else "")
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
    saved = _load_config(home, text)[0].get(n)
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
