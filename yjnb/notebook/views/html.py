"""Small, stable HTML helpers shared by the notebook views.

Every piece of model or server text put into HTML goes through `esc`; every URL put into a
`src` (or `href`) attribute goes through `safe_src`, which allows only http(s) URLs and local
relative paths.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

__all__ = ["esc", "safe_src"]

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


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
