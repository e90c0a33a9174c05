"""Both clients in the places notebook users run them: plain IPython and a real Jupyter kernel."""

from __future__ import annotations

from typing import Any

import pytest


def test_plain_ipython_sync_and_top_level_await(emulator: Any) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell()
    shell.user_ns.update(URL=emulator.url, KEY=emulator.api_key)
    cells = [
        "import yjnb\nc = yjnb.Client(api_key=KEY, base_url=URL)",
        "sync_text = c.chat('hello').text",
        "ac = yjnb.AsyncClient(api_key=KEY, base_url=URL)",
        "async_text = (await ac.chat('hello')).text",
    ]
    for cell in cells:
        result = shell.run_cell(cell)
        result.raise_error()
    assert shell.user_ns["sync_text"] == shell.user_ns["async_text"] != ""


@pytest.mark.slow
def test_real_jupyter_kernel_sync_stream_and_await(emulator: Any) -> None:
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3")
    try:
        outputs: list[str] = []

        def collect(msg: dict[str, Any]) -> None:
            if msg["msg_type"] == "stream":
                outputs.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                outputs.append("ERROR " + msg["content"]["ename"] + msg["content"]["evalue"])

        args = f"api_key={emulator.api_key!r}, base_url={emulator.url!r}"
        cells = [
            f"import yjnb\nc = yjnb.Client({args})",
            "print('sync', len(c.chat('hello').text) > 0)",
            "print('stream', len(''.join(ch.text for ch in c.chat('hello', stream=True))) > 0)",
            f"ac = yjnb.AsyncClient({args})",
            "r = await ac.chat('hello')\nprint('await', r.text == c.chat('hello').text)",
        ]
        for cell in cells:
            reply = kc.execute_interactive(cell, timeout=60, output_hook=collect)
            assert reply["content"]["status"] == "ok", outputs
        text = "".join(outputs)
        assert "sync True" in text and "stream True" in text and "await True" in text, text
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
