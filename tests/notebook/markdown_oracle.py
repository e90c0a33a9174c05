"""What a viewer would run: Markdown rendered by renderers that trust it, and the HTML checked.

The renderers let everything through (raw HTML, every scheme), as a viewer without a sanitiser
of its own does: markdown-it with and without GFM tables and, when installed, nbconvert's
mistune renderer (nbviewer, `jupyter nbconvert --to html`). The check is written apart from
the code under test: tags and attributes a Markdown renderer makes, and URLs judged the way
a browser reads them (urllib, after dropping what the URL parser drops).
"""

from __future__ import annotations

import html.parser
import re
from collections.abc import Callable
from urllib.parse import urlsplit

from markdown_it import MarkdownIt

# What Markdown makes, and what the views wrap it in.
_TAG_NAMES = """a b blockquote br code del dd details div dl dt em h1 h2 h3 h4 h5 h6 hr img input li
ol p pre s small span strong summary table tbody td th thead tr ul"""
TAGS = frozenset(_TAG_NAMES.split())
_ATTRIBUTE_NAMES = "align alt checked class disabled href id lang src start style title type"
ATTRIBUTES = frozenset(_ATTRIBUTE_NAMES.split())
SCHEMES = ("", "http", "https", "mailto")


def _trusting(tables: bool) -> Callable[[str], str]:
    md = MarkdownIt("commonmark", {"html": True})
    if tables:
        md.enable(["table", "strikethrough"])
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    return md.render


RENDERERS: dict[str, Callable[[str], str]] = {
    "markdown-it": _trusting(True),
    "commonmark": _trusting(False),
}
try:
    from nbconvert.filters.markdown_mistune import markdown2html_mistune
except ImportError:  # pragma: no cover - nbconvert comes with jupyterlab in the dev setup
    pass
else:
    RENDERERS["mistune"] = markdown2html_mistune


def browser_scheme(url: str) -> str:
    """The scheme a browser sees: tabs and newlines dropped, C0 and spaces stripped."""
    cleaned = re.sub(r"[\t\n\r]", "", url).strip("".join(map(chr, range(0x21))))
    try:
        return urlsplit(cleaned).scheme.lower()
    except ValueError:
        return "?"


class _Checker(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name not in ATTRIBUTES:
                self.problems.append(f"<{tag} {name}=…>")
            if name in ("href", "src") and browser_scheme(value or "") not in SCHEMES:
                self.problems.append(f"<{tag} {name}={value!r}>")

    handle_startendtag = handle_starttag

    def handle_pi(self, data: str) -> None:
        self.problems.append(f"<?{data}>")


def html_problems(html_text: str) -> list[str]:
    """What `html_text` holds that Markdown alone would not make: tags, attributes, URLs."""
    checker = _Checker()
    checker.feed(html_text)
    checker.close()
    return checker.problems


def problems(markdown: str) -> dict[str, list[str]]:
    """Per renderer, what its HTML holds that Markdown alone would not make; empty if safe."""
    found = {}
    for name, render in RENDERERS.items():
        if bad := html_problems(render(markdown)):
            found[name] = bad
    return found


def links(markdown: str) -> list[str]:
    """The href of every link markdown-it (with GFM tables) renders."""
    return re.findall(r'<a href="([^"]*)"', RENDERERS["markdown-it"](markdown))
