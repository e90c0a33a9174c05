"""Settings: the API key, base URL, home folder, profile, protocol and demo mode.

Sources, strongest first:

1. explicit arguments (`api_key=`, `base_url=`, `profile=`, `demo=`, `home=`);
2. the values of an explicitly chosen profile (`profile=` or `YJ_PROFILE`);
3. environment variables: `YJ_API_KEY` (or the profile's `key_env`), `YJ_BASE_URL`, `YJ_HOME`,
   `YJ_DEMO`, `YJ_PROFILE`;
4. a `.env` file in the working directory (never overriding a real environment variable);
5. the config file's `default_profile` (`YJ_HOME/config.toml`, see `_profiles`);
6. built-in defaults: profile `yuanjing`, `https://opencomputing.ai`, home `~/.yjnb`.

Demo mode (the emulator) is decided in this order: `demo=`; a `profile=` argument (the
profile's own `demo`, so an explicit real profile is never swapped for the emulator); a
`base_url=` or `api_key=` argument (they name a real server or key: not demo); `YJ_DEMO` (env
or `.env`; it beats `YJ_PROFILE` and `YJ_BASE_URL`, unless `YJ_PROFILE` names a demo profile);
the profile's `demo`. `Settings.sources` says, for each value, where it came from.

A profile also names its protocol (`yuanjing`, `yuanjing-legacy`, `openai` or `gateway`) and,
for the gateway, its platform; `protocol=` and `platform=` arguments override them.

The key is never written to the config file: a profile names the variable that holds it
(`key_env`). The key is held in a `Secret`, masked in every repr, str and format.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from . import protocols
from ._errors import ConfigError
from ._profiles import (
    BUILTIN_PROFILES,
    DEFAULT_BASE_URL,
    DEFAULT_PROFILE,
    Profile,
    check_platform,
    load_profiles,
    normalise_protocol,
    normalise_url,
    one_line,
    read_config,
    save_profile,
)

__all__ = [
    "BUILTIN_PROFILES",
    "DEFAULT_BASE_URL",
    "PROTOCOLS",
    "Profile",
    "Secret",
    "Settings",
    "check_platform",
    "configured_ledger_url",
    "load_profiles",
    "load_settings",
    "normalise_protocol",
    "save_profile",
    "set_ledger_url",
]

PROTOCOLS = protocols.NAMES
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


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
    # A shared PostgreSQL ledger: YJ_LEDGER_URL, else the profile's `ledger_url`; None: local.
    ledger_url: str | None = None
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


@dataclass(frozen=True)
class _Chosen:
    """Which of profile, base URL and key were given as arguments (they beat YJ_DEMO)."""

    profile: bool
    base_url: bool
    api_key: bool


class _Variables:
    """Variables from the real environment first, then from `.env`, with where each came from."""

    def __init__(self, environ: Mapping[str, str], cwd: Path) -> None:
        self.environ = environ
        self.dotenv_path = cwd / ".env"
        self.dotenv = _read_dotenv(self.dotenv_path)

    def get(self, name: str) -> tuple[str, str] | None:
        """(value, source) of a variable, or None."""
        if name in self.environ:
            return self.environ[name], f"env {name}"
        if name in self.dotenv:
            return self.dotenv[name], f".env ({self.dotenv_path})"
        return None


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
    cwd = Path.cwd() if cwd is None else Path(cwd)
    env = _Variables(os.environ if environ is None else environ, cwd)
    sources: dict[str, str] = {}
    home_path = _home(home, env, cwd, sources)
    prof, explicit = _profile(profile, env, home_path, sources)
    chosen = _Chosen(profile is not None, base_url is not None, bool(api_key))
    from_profile = _from_profile(prof)
    is_demo = _demo(demo, chosen, (prof, from_profile), explicit, env, sources)
    url = _base_url(base_url, (prof, from_profile), explicit, is_demo, env, sources)
    key, key_source = _key(api_key, prof, env)
    # protocol and platform: argument > the profile
    proto = prof.protocol
    sources["protocol"] = from_profile
    if protocol is not None:
        proto, sources["protocol"] = normalise_protocol(protocol, "argument"), "argument"
    plat = prof.platform or None
    if platform is not None:
        plat = check_platform(platform, "argument")
    return Settings(
        api_key=key,
        base_url=url,
        home=home_path,
        profile=prof.name,
        protocol=proto,
        platform=plat,
        demo=is_demo,
        key_source=key_source,
        key_env=prof.key_env,
        ledger_url=_ledger_url(prof, env, sources),
        sources=sources,
    )


# `%config YJMagics.ledger_url` (through `yjnb.ledger.configure`): beats the environment.
_ledger_url_override: list[str] = []


def set_ledger_url(url: str | None) -> None:
    """Set (or with None clear) this process's shared-ledger URL, above YJ_LEDGER_URL."""
    _ledger_url_override[:] = [url] if url else []


def configured_ledger_url() -> str | None:
    """The shared ledger's (and experiment cache's) URL: `set_ledger_url`'s, else
    YJ_LEDGER_URL, else the profile's `ledger_url`; None: the local files under YJ_HOME."""
    if _ledger_url_override:
        return _ledger_url_override[0]
    try:
        return load_settings().ledger_url
    except ConfigError:  # a bad profile must not stop the ledger from recording
        return os.environ.get("YJ_LEDGER_URL") or None


def _ledger_url(prof: Profile, env: _Variables, sources: dict[str, str]) -> str | None:
    """YJ_LEDGER_URL > the profile's `ledger_url` > None (the local file)."""
    if (found := env.get("YJ_LEDGER_URL")) and found[0].strip():
        sources["ledger_url"] = found[1]
        return found[0].strip()
    if prof.ledger_url:
        sources["ledger_url"] = f"profile {prof.name!r}"
        return prof.ledger_url
    return None


def _home(
    home: str | os.PathLike[str] | None, env: _Variables, cwd: Path, sources: dict[str, str]
) -> Path:
    """argument > YJ_HOME > ~/.yjnb (needed first: it holds the config file)."""
    if home is not None:
        path, sources["home"] = Path(home), "argument"
    elif (found := env.get("YJ_HOME")) and found[0]:
        path, sources["home"] = Path(found[0]), found[1]
    else:
        path, sources["home"] = Path("~/.yjnb"), "default"
    path = path.expanduser()
    return path if path.is_absolute() else cwd / path


def _profile(
    profile: str | None, env: _Variables, home: Path, sources: dict[str, str]
) -> tuple[Profile, bool]:
    """(the profile, whether it was chosen explicitly): argument > YJ_PROFILE > the config
    file's default_profile > yuanjing."""
    profiles, default_name = read_config(home)
    explicit = True
    if profile is not None:
        name, sources["profile"] = profile, "argument"
    elif (found := env.get("YJ_PROFILE")) and found[0]:
        name, sources["profile"] = found
    else:
        explicit = False
        name = default_name or DEFAULT_PROFILE
        config = home / "config.toml"
        sources["profile"] = f"default_profile in {config}" if default_name else "default"
    if name not in profiles:
        raise ConfigError(
            f"Unknown profile {name!r} (from {sources['profile']}); known profiles: "
            f"{', '.join(sorted(profiles))}; add one to {home / 'config.toml'}"
        )
    return profiles[name], explicit


def _demo(
    demo: bool | None,
    chosen: _Chosen,
    profile: tuple[Profile, str],
    explicit: bool,
    env: _Variables,
    sources: dict[str, str],
) -> bool:
    """demo= > a profile= argument > a base_url= or api_key= argument > YJ_DEMO > the profile.

    Anything chosen in code names what to talk to, so an ambient YJ_DEMO (as `make demo` sets
    it) never replaces it; `demo=True` is the way to ask for the emulator in code."""
    prof, from_profile = profile
    if demo is not None:
        sources["demo"] = "argument demo"
        return bool(demo)
    if chosen.profile:
        sources["demo"] = f"argument profile {prof.name!r}"
        return prof.demo
    for name in ("base_url", "api_key"):
        if getattr(chosen, name):
            sources["demo"] = f"argument {name}"
            return False
    if not (explicit and prof.demo) and (found := env.get("YJ_DEMO")):
        sources["demo"] = found[1]
        return _truthy(*found)
    sources["demo"] = from_profile
    return prof.demo


def _base_url(
    base_url: str | None,
    profile: tuple[Profile, str],
    explicit: bool,
    is_demo: bool,
    env: _Variables,
    sources: dict[str, str],
) -> str:
    """argument > explicit profile > YJ_BASE_URL > the default profile."""
    prof, from_profile = profile
    env_url = None if explicit else env.get("YJ_BASE_URL")
    if base_url is not None:
        url, sources["base_url"] = base_url, "argument"
    elif env_url and env_url[0]:
        url, sources["base_url"] = env_url
    else:
        url, sources["base_url"] = prof.base_url, from_profile
        if not url and not is_demo:  # the demo profile, with demo switched off
            url, sources["base_url"] = DEFAULT_BASE_URL, "default"
    return normalise_url(url, sources["base_url"], allow_empty=is_demo)


def _key(
    api_key: str | Secret | None, prof: Profile, env: _Variables
) -> tuple[Secret | None, str | None]:
    """(key, where it came from): argument > the profile's key_env in the environment > .env."""
    if api_key:
        return (api_key if isinstance(api_key, Secret) else Secret(api_key)), "argument"
    if (found := env.get(prof.key_env)) and found[0].strip():
        return Secret(found[0].strip()), found[1]
    return None, None


def _from_profile(prof: Profile) -> str:
    """Where a profile's values come from: "built-in profile 'yuanjing'", or "profile 'ext'
    in the config file" (`Settings.config_path`)."""
    if BUILTIN_PROFILES.get(prof.name) is prof:
        return f"built-in profile {prof.name!r}"
    return f"profile {prof.name!r} in the config file"


def _read_dotenv(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    try:
        values = dotenv_values(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read {path}: {one_line(exc)}") from None
    return {k: v for k, v in values.items() if v is not None}


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
