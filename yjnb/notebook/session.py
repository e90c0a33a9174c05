"""`Session`: what the commands, services and forms of one kernel share.

* `options`: the `%config YJMagics.*` settings, read live from the configurable the session
  was made with (the loaded `YJMagics`), so `%config YJMagics.wait_timeout = 5` after
  `%load_ext yjnb` takes effect at the next call. `Options` says which settings those are;
  nothing here imports the magics class.
* the client cache: `client(profile, platform)`, one sync `yjnb.Client` per profile, platform
  and demo flag, made on first use (`client_options` are passed to every new one).
* per-kernel state: demo mode, the %%yj_chat conversations, the task watchers (by task id),
  the budget warnings already given and the key variables `%yj_config --key` set.

Importing this module is cheap (`yjnb._config` only): it is part of `%load_ext yjnb`.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Protocol

from .._config import Secret, Settings, load_settings

if TYPE_CHECKING:
    from .services.conversations import Conversation
    from .services.tasks import Watcher

__all__ = ["Options", "Session"]


class Options(Protocol):
    """The settings a session reads (the traitlets of `YJMagics`, `%config YJMagics`)."""

    model: str
    image_model: str
    video_model: str
    profile: str
    max_history: int
    refresh_interval: float
    stream_output: str
    wait_timeout: float
    media_dir: str
    budget_credits: float
    session_budget_credits: float
    team_budget_credits: float
    ledger: bool


class Session:
    """The state of the notebook layer in one kernel (see the module's docstring)."""

    def __init__(self, options: Options, shell: Any = None) -> None:
        self.options = options
        self.shell = shell
        self.demo = False  # %yj_config --demo: every client uses the demo emulator
        # The profile `%yj_config --profile` chose (told apart from `%config YJMagics.profile`).
        self.profile_switched_to: str | None = None
        # Extra keyword arguments for every Client made here (tests pass a fast poll schedule).
        self.client_options: dict[str, Any] = {}
        self._clients: dict[tuple[str, bool | None, str], Any] = {}
        self.conversations: dict[tuple[str, str], Conversation] = {}
        self.watchers: dict[str, Watcher] = {}
        self.budget_warned: set[tuple[str, float]] = set()
        self.keys_entered: set[str] = set()

    def client(
        self, profile: str | None = None, platform: str | None = None, *, demo: bool | None = None
    ) -> Any:
        """The sync `yjnb.Client` for a profile (and a gateway platform), made once and reused.
        `demo` (a resumed task's ledger row) overrides the session's demo mode."""
        from .._sync import Client  # httpx and the core: only when a magic first calls out

        name = profile or self.options.profile or None
        if demo is None:
            demo = True if self.demo else None
        key = (name or "", demo, platform or "")
        if key not in self._clients:
            options = dict(self.client_options)
            if platform:
                options["platform"] = platform
            # The magics' paid calls share the profile's limiter with the kernel's experiments.
            options.setdefault("shared_limiter", True)
            self._clients[key] = Client(profile=name, demo=demo, **options)
        return self._clients[key]

    def forget_clients(self) -> None:
        """After a change of profile, demo mode or key: the next call makes new clients."""
        self._clients.clear()

    def profile_settings(self, profile: str | None, platform: str | None = None) -> Settings:
        """The settings of a profile without needing its key (demo mode: no emulator started)."""
        settings = load_settings(
            profile=profile or self.options.profile or None,
            demo=True if self.demo else None,
            platform=platform,
        )
        return self._labelled(settings, profile)

    def current_settings(
        self, profile: str | None, *, start_demo: bool = True, label: str | None = None
    ) -> Settings:
        """The settings a client made by `client(profile)` would use, with or without a key.

        In demo mode the demo emulator is started if needed (unless `start_demo` is false).
        """
        name = profile or self.options.profile or None
        settings = load_settings(profile=name, demo=True if self.demo else None)
        settings = self._labelled(settings, profile, label)
        if settings.demo and start_demo:
            from .._demo import demo_endpoint

            url, key = demo_endpoint(settings.home)
            settings = dataclasses.replace(
                settings,
                base_url=url,
                api_key=Secret(key),
                key_source="demo emulator",
                sources={**settings.sources, "base_url": "demo emulator"},
            )
        return settings

    def _labelled(
        self, settings: Settings, profile: str | None, label: str | None = None
    ) -> Settings:
        """`settings` whose sources name the notebook's own ways of choosing, not "argument":
        `-p` on the cell (or `label`), `%yj_config --profile`, `%config YJMagics.profile`,
        `%yj_config --demo`."""
        sources = dict(settings.sources)
        if profile:
            label = label or "-p on the cell"
        elif self.options.profile and self.options.profile == self.profile_switched_to:
            label = "%yj_config --profile"
        elif self.options.profile:
            label = "%config YJMagics.profile"
        else:
            label = None
        if label is not None and sources.get("profile") == "argument":
            sources["profile"] = label
            if sources.get("demo", "").startswith("argument profile"):
                sources["demo"] = f"{label}, profile {settings.profile!r}"
        if self.demo and sources.get("demo") == "argument demo":
            sources["demo"] = "%yj_config --demo"
        return dataclasses.replace(settings, sources=sources)
