"""Small, stable HTML helpers shared by the notebook views.

Every piece of model or server text put into HTML goes through `esc`; every URL put into a
`src` (or `href`) attribute goes through `safe_src`, which allows only http(s) URLs and local
relative paths. Links in model Markdown are judged by `is_safe_destination` (`markdown.py`).
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

__all__ = ["esc", "is_safe_destination", "safe_src"]

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
# What a browser's URL parser ignores: tabs and newlines anywhere, C0 controls and spaces at the
# ends. `java\tscript:` is `javascript:` to it.
_TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")
_C0_OR_SPACE = "".join(map(chr, range(0x21)))


def esc(text: object) -> str:
    """`text` as HTML text or a quoted attribute value: `& < > " '` escaped."""
    return html.escape(str(text), quote=True)


def safe_src(url: str | None) -> str | None:
    """`url`, escaped for an attribute, if it is http(s) or a local relative path; else None.

    Refused: other schemes (`javascript:`, `data:`, `file:`...), protocol-relative `//host`,
    absolute paths, `..` segments, control characters (browsers strip some of them from a
    scheme, so `java\\tscript:` would otherwise pass) and backslashes (browsers read them as
    `/`, so `\\\\host` would be `//host`): give local paths with `/` separators.
    """
    if not isinstance(url, str) or not url.strip():
        return None
    url = url.strip()
    if _CONTROL.search(url) or "\\" in url:
        return None
    if _SCHEME.match(url):
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            return None
        return esc(url)
    if url.startswith("/"):
        return None
    if ".." in url.split("?", 1)[0].split("#", 1)[0].split("/"):
        return None
    return esc(url)


def is_safe_destination(url: str) -> bool:
    """True for http(s), mailto and relative (scheme-less) URLs, read as a browser reads them.

    Checked once more with character references decoded: CommonMark leaves `&#1;` alone, but
    some renderers (mistune, in nbconvert) decode it, and a browser drops the control character
    that it leaves in front of `javascript:`.
    """
    return _has_safe_scheme(url) and _has_safe_scheme(html.unescape(url))


def _has_safe_scheme(url: str) -> bool:
    cleaned = _TAB_OR_NEWLINE.sub("", url).strip(_C0_OR_SPACE)
    scheme = _SCHEME.match(cleaned)
    return scheme is None or scheme.group(0)[:-1].lower() in _SAFE_SCHEMES
