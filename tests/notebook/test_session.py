"""The session: `%config YJMagics.*` stays live after loading, forms find the kernel's session."""

from __future__ import annotations

from typing import Any

from IPython.utils.capture import capture_output

import yjnb

if __package__:  # tests/notebook as a package or as a rootdir-inserted folder
    from .media_helpers import watcher_of
else:
    from media_helpers import watcher_of


def test_config_after_load_reaches_the_commands(ip: Any, magics: Any, emulator: Any) -> None:
    ip.run_line_magic("config", "YJMagics.wait_timeout = 5")
    ip.run_line_magic("config", "YJMagics.image_model = 'wan2.2-t2i-plus'")
    with capture_output():
        ip.run_line_magic("yj_image", "--bg -o t a cat")
    task = ip.user_ns["t"]
    assert task.model == "wan2.2-t2i-plus"
    watcher = watcher_of(magics, task)
    assert watcher.timeout == 5
    watcher.result(timeout=30)


def test_a_form_uses_the_loaded_extensions_session(ip: Any, magics: Any) -> None:
    magics.video_model = "wan2.6-t2v"
    f = yjnb.form("video")
    assert f.session is magics.session and f.model.value == "wan2.6-t2v"


def test_a_form_without_the_extension_gets_a_stand_alone_session() -> None:
    f = yjnb.form("image")  # no IPython shell in this test
    # Left empty, the setting defers to the profile's protocol (one table per protocol).
    assert f.session.shell is None and f.session.options.image_model == ""
    assert f.model.value == f.protocol.default_model("image") == "wan2.2-t2i-flash"
