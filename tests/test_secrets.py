"""The origin rule and redaction, on their own (the hostile media tests drive them over HTTP)."""

from __future__ import annotations

from urllib.parse import quote, quote_plus

import httpx
import pytest

from yjnb._errors import APIConnectionError, redact
from yjnb._secrets import same_origin, scrub_errors

KEY = "sk-Test/Key+With=Signs0123456789"


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("https://api.example/x", "https://api.example"),
        ("https://api.example:443/x", "https://api.example"),
        ("http://api.example:80/x", "http://API.example/"),
        ("/idfile?path=/tmp/a.mp4", "https://api.example"),
    ],
)
def test_the_same_origin(url: str, base: str) -> None:
    assert same_origin(httpx.URL(base).join(url), base)


@pytest.mark.parametrize(
    "url",
    [
        "http://api.example/x",  # the plain-text twin
        "https://api.example:8443/x",
        "https://cdn.api.example/x",
        "https://api.example.evil.test/x",
        "https://api.example@evil.test/x",
        "ftp://api.example/x",
        "not a url",
    ],
)
def test_other_origins(url: str) -> None:
    assert not same_origin(url, "https://api.example")


@pytest.mark.parametrize(
    "echo",
    [
        KEY,
        quote(KEY, safe=""),
        quote_plus(KEY),
        f"{KEY[:14]}\n{KEY[14:]}",  # wrapped over two lines
        f"{KEY[:10]}…",  # cut short by an excerpt
        f"Bearer {KEY}",
    ],
)
def test_every_echo_of_the_key_is_redacted(echo: str) -> None:
    text = redact(f"invalid key: {echo} (try again)", KEY)
    assert text.startswith("invalid key: ") and text.endswith(" (try again)")
    for part in (KEY, quote(KEY, safe=""), KEY[:8], KEY[-8:]):
        assert part not in text


def test_short_runs_of_ordinary_text_stay() -> None:
    assert redact("sk-T and 0123 are fine", KEY) == "sk-T and 0123 are fine"


def test_scrubbed_errors_are_redacted_and_chain_nothing() -> None:
    request = httpx.Request("GET", "https://api.example", headers={"Authorization": KEY})
    with pytest.raises(APIConnectionError) as info, scrub_errors(KEY):
        try:
            raise httpx.ConnectError("refused", request=request)
        except httpx.ConnectError:
            raise APIConnectionError(f"could not reach it with {KEY}") from None
    assert info.value.__context__ is None and info.value.__cause__ is None
    assert KEY not in str(info.value)
