"""Settings: every precedence step, .env, profiles, errors, and a key that never shows."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import pytest

from yjnb._config import (
    BUILTIN_PROFILES,
    PROTOCOLS,
    Profile,
    Secret,
    Settings,
    load_profiles,
    load_settings,
    save_profile,
)
from yjnb._errors import ConfigError

KEY = "sk-1234567890abcdef9a2"
WORK_TOML = """\
default_profile = "work"

[profiles.work]
base_url = "https://gateway.example.com/"
key_env = "WORK_YJ_KEY"        # keys are never stored in this file
protocol = "yuanjing"

[profiles.old]
protocol = "legacy"
"""


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    d = tmp_path / "cwd"
    d.mkdir()
    return d


def load(home: Path, cwd: Path, env: dict[str, str] | None = None, **kw: Any) -> Settings:
    return load_settings(home=kw.pop("home_arg", home), environ=env or {}, cwd=cwd, **kw)


def write_config(home: Path, text: str = WORK_TOML) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


# -- defaults and each precedence step ----------------------------------------------------------


def test_builtin_defaults(cwd: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "userhome"))
    s = load_settings(environ={}, cwd=cwd)
    assert s.base_url == "https://opencomputing.ai"
    assert s.home == tmp_path / "userhome" / ".yjnb"
    assert s.config_path == s.home / "config.toml"
    assert (s.profile, s.protocol, s.demo) == ("yuanjing", "yuanjing", False)
    assert s.api_key is None and s.key_source is None and s.key_env == "YJ_API_KEY"


def test_builtin_profiles() -> None:
    assert set(BUILTIN_PROFILES) == {"yuanjing", "legacy", "demo"}
    assert BUILTIN_PROFILES["legacy"].protocol == "yuanjing-legacy"
    assert BUILTIN_PROFILES["legacy"].base_url == BUILTIN_PROFILES["yuanjing"].base_url
    assert BUILTIN_PROFILES["demo"].demo and not BUILTIN_PROFILES["yuanjing"].demo
    assert PROTOCOLS == ("yuanjing", "yuanjing-legacy", "openai", "gateway")


def test_env_vars(home: Path, cwd: Path, tmp_path: Path) -> None:
    env = {
        "YJ_API_KEY": KEY,
        "YJ_BASE_URL": "http://localhost:9000/",
        "YJ_HOME": str(tmp_path / "envhome"),
    }
    s = load_settings(environ=env, cwd=cwd)
    assert s.api_key == Secret(KEY) and s.key_source == "env YJ_API_KEY"
    assert s.base_url == "http://localhost:9000"
    assert s.home == tmp_path / "envhome"


def test_relative_and_tilde_home(
    cwd: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert load_settings(environ={"YJ_HOME": "rel"}, cwd=cwd).home == cwd / "rel"
    monkeypatch.setenv("HOME", str(tmp_path))
    assert load_settings(environ={"YJ_HOME": "~/x"}, cwd=cwd).home == tmp_path / "x"


def test_arguments_beat_env(home: Path, cwd: Path, tmp_path: Path) -> None:
    env = {"YJ_API_KEY": "sk-from-env-000000000", "YJ_BASE_URL": "https://env.example"}
    env["YJ_HOME"] = str(tmp_path / "envhome")
    s = load(home, cwd, env, api_key=KEY, base_url="https://arg.example/")
    assert s.api_key is not None and s.api_key.reveal() == KEY and s.key_source == "argument"
    assert s.base_url == "https://arg.example" and s.home == home


def test_env_beats_dotenv(home: Path, cwd: Path) -> None:
    (cwd / ".env").write_text("YJ_API_KEY=sk-dotenv-00000000000\nYJ_BASE_URL=https://dot.example\n")
    s = load(home, cwd, {"YJ_API_KEY": KEY})
    assert s.api_key == Secret(KEY) and s.key_source == "env YJ_API_KEY"
    assert s.base_url == "https://dot.example"  # .env still fills what env leaves out
    s = load(home, cwd, {})
    assert s.api_key == Secret("sk-dotenv-00000000000")
    assert s.key_source == f".env ({cwd / '.env'})"


def test_dotenv_parsing(home: Path, cwd: Path, tmp_path: Path) -> None:
    (cwd / ".env").write_text(
        "# a comment\n"
        'export YJ_API_KEY="sk-quoted-key-0000#notacomment"  # trailing comment\n'
        "YJ_BASE_URL='https://single.example/'\n"
        f"YJ_HOME={tmp_path / 'dothome'}\n"
        "YJ_DEMO=off\n"
        "EMPTY_ONLY_NAME\n"
    )
    s = load_settings(environ={}, cwd=cwd)
    assert s.api_key == Secret("sk-quoted-key-0000#notacomment")
    assert s.base_url == "https://single.example"
    assert s.home == tmp_path / "dothome"
    assert s.demo is False


def test_dotenv_only_in_cwd(home: Path, cwd: Path, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"YJ_API_KEY={KEY}\n")  # the parent of cwd: not read
    assert load(home, cwd).api_key is None


def test_default_profile_from_config(home: Path, cwd: Path) -> None:
    write_config(home)
    s = load(home, cwd, {"WORK_YJ_KEY": KEY, "YJ_API_KEY": "sk-personal-0000000000"})
    assert s.profile == "work" and s.sources["profile"].startswith("default_profile in ")
    assert s.base_url == "https://gateway.example.com"
    assert s.api_key == Secret(KEY) and s.key_source == "env WORK_YJ_KEY"
    assert s.key_env == "WORK_YJ_KEY"


def test_env_beats_default_profile_values(home: Path, cwd: Path) -> None:
    write_config(home)
    s = load(home, cwd, {"YJ_BASE_URL": "https://env.example"})
    assert (s.profile, s.base_url) == ("work", "https://env.example")


def test_explicit_profile_beats_env(home: Path, cwd: Path) -> None:
    write_config(home)
    env = {"YJ_BASE_URL": "https://env.example", "YJ_PROFILE": "work"}
    s = load(home, cwd, env)
    assert (s.profile, s.base_url) == ("work", "https://gateway.example.com")
    assert s.sources["profile"] == "env YJ_PROFILE"
    s = load(home, cwd, {"YJ_BASE_URL": "https://env.example"}, profile="work")
    assert s.base_url == "https://gateway.example.com"
    # ... and the argument beats the explicit profile.
    s = load(home, cwd, env, base_url="https://arg.example")
    assert s.base_url == "https://arg.example"


def test_profile_argument_beats_env_profile(home: Path, cwd: Path) -> None:
    write_config(home)
    s = load(home, cwd, {"YJ_PROFILE": "work"}, profile="legacy")
    assert (s.profile, s.protocol) == ("legacy", "yuanjing-legacy")
    (cwd / ".env").write_text("YJ_PROFILE=old\n")
    s = load(home, cwd)
    assert (s.profile, s.protocol, s.base_url) == (
        "old",
        "yuanjing-legacy",
        "https://opencomputing.ai",
    )


def test_profile_key_env_does_not_fall_back_to_yj_api_key(home: Path, cwd: Path) -> None:
    write_config(home)
    s = load(home, cwd, {"YJ_API_KEY": KEY})
    assert s.api_key is None  # the personal key is not sent to the work gateway
    (cwd / ".env").write_text(f"WORK_YJ_KEY={KEY}\n")
    assert load(home, cwd).key_source == f".env ({cwd / '.env'})"


def test_load_profiles_merges(home: Path) -> None:
    assert load_profiles(home) == BUILTIN_PROFILES
    write_config(home)
    profiles = load_profiles(home)
    assert set(profiles) == {"yuanjing", "legacy", "demo", "work", "old"}
    assert profiles["work"] == Profile(
        "work", "https://gateway.example.com", "WORK_YJ_KEY", "yuanjing"
    )
    assert profiles["old"] == Profile("old", "https://opencomputing.ai", protocol="yuanjing-legacy")


# -- demo mode -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["1", "true", "YES", "on", " On "])
def test_demo_env_truthy(home: Path, cwd: Path, value: str) -> None:
    s = load(home, cwd, {"YJ_DEMO": value})
    assert s.demo is True and s.api_key is None
    s.require_key  # noqa: B018  (loading never requires a key in demo mode)


@pytest.mark.parametrize("value", ["0", "false", "no", "off", ""])
def test_demo_env_falsy(home: Path, cwd: Path, value: str) -> None:
    assert load(home, cwd, {"YJ_DEMO": value}).demo is False


def test_demo_sources(home: Path, cwd: Path) -> None:
    assert load(home, cwd, demo=True).demo is True
    assert load(home, cwd, {"YJ_DEMO": "1"}, demo=False).demo is False
    s = load(home, cwd, profile="demo")
    assert (s.demo, s.base_url, s.api_key) == (True, "", None)
    assert load(home, cwd, {"YJ_PROFILE": "demo", "YJ_DEMO": "0"}).demo is True
    (cwd / ".env").write_text("YJ_DEMO=yes\n")
    assert load(home, cwd).demo is True
    assert load(home, cwd, {"YJ_DEMO": "no"}).demo is False
    write_config(home, 'default_profile = "demo"\n')
    s = load(home, cwd, {"YJ_DEMO": "0"})  # env beats default_profile
    assert (s.demo, s.base_url) == (False, "https://opencomputing.ai")
    (cwd / ".env").unlink()
    assert load(home, cwd).demo is True


def test_demo_bad_value(home: Path, cwd: Path) -> None:
    with pytest.raises(ConfigError, match=r"YJ_DEMO='maybe' \(from env YJ_DEMO\) is not a yes/no"):
        load(home, cwd, {"YJ_DEMO": "maybe"})


# -- errors --------------------------------------------------------------------------------------


def test_require_key_message(home: Path, cwd: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load(home, cwd).require_key()
    assert str(info.value) == (
        "No API key for profile 'yuanjing': pass api_key=..., set YJ_API_KEY "
        "(also read from a .env file), or run %yj_config --key"
    )
    write_config(home)
    with pytest.raises(ConfigError, match=r"profile 'work': pass api_key=\.\.\., set WORK_YJ_KEY"):
        load(home, cwd).require_key()
    assert load(home, cwd, api_key=KEY).require_key().reveal() == KEY


def test_unknown_profile(home: Path, cwd: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load(home, cwd, profile="nope")
    assert str(info.value) == (
        "Unknown profile 'nope' (from argument); known profiles: demo, legacy, yuanjing; "
        f"add one to {home / 'config.toml'}"
    )
    with pytest.raises(ConfigError, match=r"'x' \(from env YJ_PROFILE\)"):
        load(home, cwd, {"YJ_PROFILE": "x"})
    write_config(home, 'default_profile = "gone"\n')
    with pytest.raises(ConfigError, match=r"default_profile 'gone' in .*config.toml is not a prof"):
        load(home, cwd)


def test_unknown_protocol(home: Path, cwd: Path) -> None:
    path = write_config(home, '[profiles.p]\nprotocol = "grpc"\n')
    with pytest.raises(ConfigError) as info:
        load(home, cwd)
    assert str(info.value) == (
        f"Unknown protocol 'grpc' (from [profiles.p] in {path}); "
        "known: yuanjing, yuanjing-legacy, openai, gateway"
    )


def test_openai_and_gateway_profiles(home: Path, cwd: Path) -> None:
    write_config(
        home,
        '[profiles.oa]\nbase_url = "https://llm.example/v1"\nprotocol = "openai"\n'
        'key_env = "OA_KEY"\n\n[profiles.gw]\nbase_url = "https://gw.example"\n'
        'protocol = "Gateway"\nplatform = "google"\n',
    )
    s = load(home, cwd, {"OA_KEY": KEY}, profile="oa")
    assert (s.protocol, s.platform, s.base_url) == ("openai", None, "https://llm.example/v1")
    s = load(home, cwd, {}, profile="gw")
    assert (s.protocol, s.platform) == ("gateway", "google")
    # Arguments override the profile's protocol and platform.
    s = load(home, cwd, {}, profile="gw", platform="qwen")
    assert (s.protocol, s.platform) == ("gateway", "qwen")
    s = load(home, cwd, {}, protocol="legacy")
    assert (s.profile, s.protocol) == ("yuanjing", "yuanjing-legacy")
    with pytest.raises(ConfigError, match=r"Unknown protocol 'soap' \(from argument\)"):
        load(home, cwd, {}, protocol="soap")
    with pytest.raises(ConfigError, match=r"platform 'a/b' \(from argument\) must be a plain"):
        load(home, cwd, {}, profile="gw", platform="a/b")


@pytest.mark.parametrize("entry", ["api_key", "key", "API_KEY", "token"])
@pytest.mark.parametrize("where", ["top", "profile"])
def test_key_in_config_file_refused(home: Path, cwd: Path, entry: str, where: str) -> None:
    text = f'{entry} = "{KEY}"\n' if where == "top" else f'[profiles.w]\n{entry} = "{KEY}"\n'
    write_config(home, text)
    with pytest.raises(ConfigError) as info:
        load(home, cwd)
    message = str(info.value)
    assert "API keys are never read from the config file" in message
    assert "environment variable or a .env file" in message and repr(entry) in message
    assert KEY not in message


def test_bad_toml(home: Path, cwd: Path) -> None:
    path = write_config(home, "[profiles.work\nbase_url = 1\n")
    with pytest.raises(ConfigError) as info:
        load(home, cwd)
    message = str(info.value)
    assert message.startswith(f"Cannot parse {path}: ") and "line 1" in message
    assert "\n" not in message


def test_bad_profile_values(home: Path, cwd: Path) -> None:
    write_config(home, "[profiles.w]\nbase_url = 3\n")
    with pytest.raises(ConfigError, match=r"base_url in \[profiles.w\] .* must be a str, not 3"):
        load(home, cwd)
    write_config(home, '[profiles.w]\nbase_ur = "https://x"\n')
    with pytest.raises(ConfigError, match=r"Unknown setting 'base_ur' in \[profiles.w\]"):
        load(home, cwd)
    write_config(home, '[profiles.w]\nbase_url = "gateway.example.com"\n')
    with pytest.raises(ConfigError, match=r"base_url 'gateway.example.com' \(from \[profiles.w\]"):
        load(home, cwd)


@pytest.mark.parametrize("url", ["ftp://x.example", "opencomputing.ai", "", "   "])
def test_bad_base_url(home: Path, cwd: Path, url: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(home, cwd, {"YJ_BASE_URL": "https://ok.example"}, base_url=url)
    assert str(info.value) == (
        f"base_url {url.strip()!r} (from argument) must start with http:// or https://"
    )


def test_base_url_normalised(home: Path, cwd: Path) -> None:
    assert load(home, cwd, base_url=" HTTPS://a.example/v1// ").base_url == "HTTPS://a.example/v1"


# -- the secret never shows ----------------------------------------------------------------------


def test_secret_masking() -> None:
    s = Secret(KEY)
    assert s.mask() == "sk-1…f9a2"
    assert Secret("short-key").mask() == "****" and Secret("").mask() == "****"
    percent = ["%s" % s, "%r" % (s,), "%-30s|" % s]  # noqa: UP031
    shown = [repr(s), str(s), f"{s}", f"{s!r}", f"{s:>20}", "{}".format(s), *percent]  # noqa: UP032
    assert all(KEY not in text and "1234567890" not in text for text in shown)
    assert repr(s) == "Secret('sk-1…f9a2')" and str(s) == "sk-1…f9a2"
    assert s.reveal() == KEY
    assert s == Secret(KEY) and s != Secret(KEY + "x") and s != KEY
    assert hash(s) == hash(Secret(KEY))
    assert bool(s) and not Secret("")
    with pytest.raises(TypeError):
        Secret(123)  # type: ignore[arg-type]


def test_settings_repr_masks_key(home: Path, cwd: Path, caplog: pytest.LogCaptureFixture) -> None:
    s = load(home, cwd, {"YJ_API_KEY": KEY})
    percent = "%s %r" % (s, s)  # noqa: UP031
    for text in (repr(s), str(s), f"{s}", percent, repr(dataclasses.asdict(s)), str(vars(s))):
        assert KEY not in text
    assert "sk-1…f9a2" in repr(s)
    logging.getLogger("yjnb.test").warning("settings %s %r", s, s.api_key)
    assert KEY not in caplog.text
    # A raw string put in by dataclasses.replace is wrapped too.
    assert KEY not in repr(dataclasses.replace(s, api_key=KEY))  # type: ignore[arg-type]


def test_settings_replace_keeps_working(home: Path, cwd: Path) -> None:
    s = dataclasses.replace(load(home, cwd, demo=True), base_url="http://127.0.0.1:1234")
    s = dataclasses.replace(s, api_key=Secret("emulator-key-000000"), key_source="demo emulator")
    assert s.require_key().reveal() == "emulator-key-000000" and s.demo


# -- saving -------------------------------------------------------------------------------------


def test_save_profile_round_trip(home: Path, cwd: Path) -> None:
    p = Profile("team-a", "https://team.example/", "TEAM_KEY", "legacy")
    path = save_profile(home, p)
    assert path == home / "config.toml" and path.is_file()
    assert load_profiles(home)["team-a"] == dataclasses.replace(
        p, base_url="https://team.example", protocol="yuanjing-legacy"
    )
    text = path.read_text()
    assert "TEAM_KEY" in text and "sk-" not in text
    s = load(home, cwd, {"TEAM_KEY": KEY}, profile="team-a")
    assert s.api_key == Secret(KEY) and s.protocol == "yuanjing-legacy"
    gw = Profile("gw", "https://gw.example", protocol="gateway", platform="doubao")
    save_profile(home, gw)
    assert load_profiles(home)["gw"] == gw
    assert 'platform = "doubao"' in path.read_text()


def test_save_profile_updates_and_keeps_the_rest(home: Path, cwd: Path) -> None:
    path = write_config(home, "# my settings\n" + WORK_TOML)
    save_profile(home, Profile("work", "https://new.example", "NEW_KEY"))
    save_profile(home, Profile("extra", "http://localhost:8000", demo=True), make_default=True)
    text = path.read_text()
    assert text.startswith("# my settings\n") and text.count("[profiles.work]") == 1
    profiles = load_profiles(home)
    assert profiles["work"] == Profile("work", "https://new.example", "NEW_KEY")
    assert profiles["old"].protocol == "yuanjing-legacy"
    assert profiles["extra"].demo
    assert load(home, cwd).profile == "extra"
    save_profile(home, Profile("work", "https://new.example", "NEW_KEY"), make_default=True)
    assert load(home, cwd).profile == "work"
    assert path.read_text().count("default_profile") == 1


def test_save_profile_errors(home: Path) -> None:
    with pytest.raises(ConfigError, match="may only use letters, digits"):
        save_profile(home, Profile("a b", "https://x.example"))
    with pytest.raises(ConfigError, match=r"Unknown protocol 'rest' \(from profile 'a'\); known"):
        save_profile(home, Profile("a", "https://x.example", protocol="rest"))
    with pytest.raises(ConfigError, match="must start with http:// or https://"):
        save_profile(home, Profile("a", "x.example"))
    assert not (home / "config.toml").exists()
    path = write_config(home, "[broken\n")
    with pytest.raises(ConfigError, match="Cannot parse"):
        save_profile(home, Profile("a", "https://x.example"))
    assert path.read_text() == "[broken\n"


def test_an_explicit_base_url_wins_over_ambient_demo_mode(tmp_path: Path) -> None:
    settings = load_settings(
        base_url="http://127.0.0.1:9",
        api_key="k",
        environ={"YJ_DEMO": "1"},
        cwd=tmp_path,
        home=tmp_path,
    )
    assert settings.demo is False
    assert settings.base_url == "http://127.0.0.1:9"
    assert load_settings(environ={"YJ_DEMO": "1"}, cwd=tmp_path, home=tmp_path).demo is True
