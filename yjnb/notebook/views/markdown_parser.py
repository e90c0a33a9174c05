"""markdown-it-py, instrumented for `markdown.py`: each parse notes where the unsafe inline
constructs start and end in their inline token's content.

Noted (`Found.kind`):
- `html_inline`: raw HTML; `link`, `image`, `autolink`: a destination `is_safe_destination` refuses;
- `text_lt`: a `<` that CommonMark reads as text, and `escaped_lt`: a `\\<`. Both render as `<`
  and stay so as `&lt;`, which no renderer can take for the start of a tag: some see tags
  where CommonMark sees none (mistune, nbconvert's renderer, takes `<img/src=x onerror=…>`);
- `text_bracket`: a `[` that CommonMark reads as text; `\\[` renders the same, and is needed
  where a lenient renderer may see a link (cmark, GitHub's, takes `[x](javascript:a(b )`);
- `link_tail`: the destination and title of a safe link, from the label's `]`;
- `glued_code`: a code span opened inside a bare URL (`http://x`…`), or holding `~~` after a
  `~~`: renderers that link bare URLs or strike text while parsing (mistune, marked) swallow
  the backtick and read the code as Markdown.

The parser sees destinations as written (entities and escapes decoded) and refuses none itself.
It stops, noting `too_deep`, past nesting no answer has: beyond markdown-it's `maxNesting` it
would skip what other renderers render.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from types import SimpleNamespace
from typing import Any, NamedTuple

from markdown_it import MarkdownIt
from markdown_it import helpers as markdown_it_helpers
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline, autolink, backtick, escape, html_inline, image
from markdown_it.rules_inline import link as link_rule
from markdown_it.token import Token

from .html import is_safe_destination

__all__ = ["MAX_DEPTH", "Found", "Parse", "parse"]

MAX_DEPTH = 32  # block quotes, lists, brackets, images in alt text: beyond any real answer
# A bare URL up to here, as GFM (cmark-gfm's `www.` and scheme autolinks), mistune and marked
# link it while parsing: up to a space or a `<`, and a text `<` becomes `&lt;` here.
_URL_RUN_END = re.compile(r"(?:https?://|ftp://|www\.)\S*\Z", re.IGNORECASE)
_URL_WINDOW = 2048
_RECENT_CONSTRUCTS = 64  # enough to find the one a URL within the window starts in
# A backslash that escapes no punctuation and ends a destination in CommonMark, by whether the
# destination is bracketed (`<…>`: only a line break ends it).
_ESCAPED_BREAK = {True: re.compile(r"\\\n"), False: re.compile(r"\\[\x00-\x20\x7f]")}

# Keys of the per-parse `env` that the wrapped rules share.
_OWNER = "yj_owner"  # the inline token being parsed
_ALT_BASE = "yj_alt_base"  # where the alt text being parsed starts in the owner's content
_ALT_DEPTH = "yj_alt_depth"
_FOUND = "yj_found"
_TOO_DEEP = "yj_too_deep"
_TAKEN = "yj_taken"  # (id of the source, start, end) of the constructs matched so far

InlineRule = Callable[[StateInline, bool], bool]


class Found(NamedTuple):
    """An unsafe construct: `owner.content[start:end]`, of this kind (see the module doc)."""

    owner: Token
    start: int
    end: int
    kind: str


class Parse(NamedTuple):
    tokens: list[Token]
    found: list[Found]
    too_deep: bool


def parse(text: str, *, tables: bool) -> Parse:
    """Block tokens of `text` (GFM tables and strikethrough with `tables`) and what they hold."""
    env: dict[str, Any] = {_FOUND: []}
    try:
        tokens = _parser(tables).parse(text, env)
    except RecursionError:
        return Parse([], [], True)
    return Parse(tokens, env[_FOUND], bool(env.get(_TOO_DEEP)))


@cache
def _parser(tables: bool) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"maxNesting": 2 * MAX_DEPTH, "inline_definitions": True})
    if tables:  # GFM, as JupyterLab, GitHub and nbconvert render it
        md.enable(["table", "strikethrough"])
    md.helpers = SimpleNamespace(  # type: ignore[assignment]
        parseLinkLabel=markdown_it_helpers.parseLinkLabel,
        parseLinkDestination=_destination_per_spec,
        parseLinkTitle=markdown_it_helpers.parseLinkTitle,
    )
    md.normalizeLink = lambda url: url  # type: ignore[method-assign]
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    rules: dict[str, InlineRule] = {
        "link": link_rule, "image": image, "autolink": autolink, "html_inline": html_inline,
        "escape": escape, "backticks": backtick,
    }  # fmt: skip
    for name, rule in rules.items():
        md.inline.ruler.at(name, _watched(name, rule))
    for name, char in (("yj_text_lt", "<"), ("yj_text_bracket", "[")):
        md.inline.ruler.push(name, _text_char(char, name[3:]))  # last: what no rule took
    md.block.ruler.before("table", "yj_depth", _block_depth_guard)  # first, at every block
    md.core.ruler.at("inline", _parse_inlines)
    return md


def _destination_per_spec(string: str, pos: int, maximum: int) -> Any:
    """markdown-it's parseLinkDestination, with a backslash escaping punctuation only, as in
    CommonMark: `\\<tab>` (or a control character) ends an unbracketed destination and
    `\\<newline>` makes a bracketed one fail. markdown-it reads on, and takes for a link or a
    definition what others render as text, tags and all."""
    cut = _ESCAPED_BREAK[string.startswith("<", pos)].search(string, pos, maximum)
    if cut:
        maximum = cut.start() + 1  # the backslash is a character, the end comes after it
    return markdown_it_helpers.parseLinkDestination(string, pos, maximum)


def _parse_inlines(state: StateCore) -> None:
    """markdown-it's own core rule, telling the inline rules which token they are in."""
    for token in state.tokens:
        if token.type == "inline":
            state.env[_OWNER] = token
            token.children = token.children or []
            state.md.inline.parse(token.content, state.md, state.env, token.children)


def _block_depth_guard(state: Any, start_line: int, end_line: int, silent: bool) -> bool:
    """Too deep: note it and take the rest (the answer will be shown as code)."""
    if state.level < MAX_DEPTH:
        return False
    state.env[_TOO_DEEP] = True
    state.line = end_line
    return True


def _text_char(char: str, kind: str) -> InlineRule:
    """A rule taking `char` as text, as markdown-it does when no other rule does, noting it."""

    def text_char(state: StateInline, silent: bool) -> bool:
        if state.src[state.pos] != char:
            return False
        if not silent:
            start = state.env.get(_ALT_BASE, 0) + state.pos
            state.env[_FOUND].append(Found(state.env[_OWNER], start, start + 1, kind))
            state.pending += char
        state.pos += 1
        return True

    return text_char


_FIRST = {
    "link": "[", "image": "!", "autolink": "<", "html_inline": "<", "escape": "\\",
    "backticks": "`",
}  # fmt: skip


def _watched(name: str, rule: InlineRule) -> InlineRule:
    """`rule`, noting where each unsafe construct it matches starts and ends."""
    first = _FIRST[name]

    def watched(state: StateInline, silent: bool) -> bool:
        if state.src[state.pos] != first:  # what `rule` checks first, without the call
            return False
        env = state.env
        depth = env.get(_ALT_DEPTH, 0)
        if state.level >= MAX_DEPTH or depth >= MAX_DEPTH:
            env[_TOO_DEEP] = True
            return False
        start, count, base = state.pos, len(state.tokens), env.get(_ALT_BASE, 0)
        if name == "image" and not silent:  # its alt text is parsed apart, from after `![`
            env[_ALT_BASE], env[_ALT_DEPTH] = base + start + 2, depth + 1
        try:
            matched = rule(state, silent)
        finally:
            env[_ALT_BASE], env[_ALT_DEPTH] = base, depth
        if matched and not silent:
            noted = _note(name, state, start, state.tokens[count:])
            if name != "backticks" or noted or _opened_code(state.tokens[count:]):
                env.setdefault(_TAKEN, []).append((id(state.src), start, state.pos))
            if noted:
                kind, begin = noted
                env[_FOUND].append(Found(env[_OWNER], base + begin, base + state.pos, kind))
        return matched

    return watched


def _glued_to_url(state: StateInline, start: int) -> bool:
    """Whether a bare URL runs into the backticks at `start`, not from inside an earlier
    construct (a URL in code, a link or an autolink is no bare URL to anyone)."""
    window = max(0, start - _URL_WINDOW)
    run = _URL_RUN_END.search(state.src, window, start)
    if run is None:
        return False
    source, begins = id(state.src), run.start()
    recent = state.env.get(_TAKEN, [])[-_RECENT_CONSTRUCTS:]
    return not any(s == source and first <= begins < end for s, first, end in recent)


def _opened_code(pushed: list[Token]) -> bool:
    """Whether the backticks rule opened a code span (not a lone run of backticks)."""
    return any(t.type == "code_inline" for t in pushed)


def _cut_by_strikethrough(state: StateInline, start: int) -> bool:
    """Whether `~~` before the code span at `start` and `~~` inside it may pair: mistune reads
    strikethrough while parsing, and the code's opening backtick ends up inside it."""
    return "~~" in state.src[start : state.pos] and "~~" in state.src[:start]


_OPENING = {"link": "link_open", "autolink": "link_open", "image": "image"}


def _note(name: str, state: StateInline, start: int, pushed: list[Token]) -> tuple[str, int] | None:
    """What to note about a match of rule `name` from `start` (it pushed `pushed`, pending text
    first): its kind and where it begins."""
    if name == "html_inline":
        return name, start
    if name == "escape":
        return ("escaped_lt", start) if state.src[start + 1 : start + 2] == "<" else None
    if name == "backticks":  # glued: what follows may be read as Markdown, to the end
        glued = _glued_to_url(state, start) or _cut_by_strikethrough(state, start)
        return ("glued_code", start) if _opened_code(pushed) and glued else None
    opening = next(t for t in pushed if t.type == _OPENING[name])
    destination = opening.attrs.get("src" if name == "image" else "href", "")
    if not is_safe_destination(str(destination)):
        return name, start
    if name == "autolink" or "<" not in state.src[start : state.pos]:
        return None
    # A safe link's destination and title: markdown-it reads `\<tab>` inside a destination,
    # CommonMark ends it there, and what follows may be a tag to others.
    label_end = state.md.helpers.parseLinkLabel(state, start + (name == "image"))
    return ("link_tail", label_end) if label_end >= 0 else None
