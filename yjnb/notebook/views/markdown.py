"""Model Markdown that cannot carry script: `neutralise_markdown(text)`.

Raw HTML (tags, comments, declarations, inline or as blocks) is shown as text: its `<` becomes
`&lt;`, as does every other `<` outside code. A link, image or autolink whose destination is not
http(s), mailto or relative is shown as text: its `[` gets a backslash, an autolink's `<` becomes
`&lt;`. That covers every form a destination takes: inline, reference definitions
(`[r]: javascript:…`, broken too, so their uses stay text), autolinks, entity-encoded schemes
(`&#106;avascript:`), mixed case and the control characters a browser drops. The rest is left
byte for byte: headings, lists, tables, code and http links render as the model wrote them.

Why a parser, and this one. Where code, HTML and links begin in CommonMark depends on rules that
regular expressions get wrong: the hand-written version this replaces missed reference
definitions, entity-encoded schemes, a tag after an escaped backtick and a "fence" whose info
string holds a backtick (which CommonMark does not take for a fence). markdown-it-py follows
CommonMark 0.31 (it passes the spec's examples), is maintained (Executable Books: MyST, Jupyter
Book, mdformat), pure Python with one small dependency (mdurl), and a port of markdown-it, which
VS Code renders notebooks with. Only its parser is used: the output stays Markdown, which is
what the notebook stores and what every viewer (JupyterLab, nbviewer, GitHub, VS Code) renders
its own way, with or without a sanitiser of its own.

How. One parse (`markdown_parser.py`) names every link, image, autolink, raw HTML, `<` and
reference definition, with where it starts in its block's text, which maps back to the answer
(`markdown_sources.py`). Edits only escape, but some can uncover syntax that a tag hid
(`<a title="[x](javascript:…)">`): after those the result is parsed again until it is clean, a
few passes at most. Past that, or when the answer nests deeper than answers do, the whole answer
is shown as a code block. The blocks holding tables are parsed a second time without GFM tables,
as viewers without them read the rows (a code span can cross a `|` there). An answer with no
`<`, `:` or `&` is returned at once; most need one parse.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from markdown_it.token import Token

from .html import is_safe_destination
from .markdown_parser import Found, parse
from .markdown_sources import InlineSources, Lines

__all__ = ["neutralise_markdown"]

# Without one of these no tag and no scheme (a scheme needs `:`, or an entity for it) can occur.
_MAY_CARRY_SCRIPT = re.compile(r"[<:&]")
_LINE_BREAKS = re.compile(r"\r\n?")
_MAX_PASSES = 4
_ENTITY = {"<": "&lt;", "[": "&#91;"}
_BRACKETED_DESTINATION = re.compile(r"\]\(\s*<")
_DEFINITION_DESTINATION = re.compile(r"\]:[ \t]*\n?[ \t]*<")
# After a text `[`: what a lenient renderer may still take for a link's or definition's
# destination (cmark takes unbalanced parentheses).
_LOOSE_DESTINATION = re.compile(r"\][(:][ \t]*\n?[ \t]*(?:<([^>\n]*)|(\S*))")
# A tag whose text, once its `<` is `&lt;`, cannot start anything: no re-parse needed.
_INERT_TAG = re.compile(r"<[A-Za-z0-9\s/=\"'\-.:;#%,]*>")
# Escapes after which the parse is the same: a `<` that was text (or escaped), or in a link's
# destination or title, as `&lt;`.
_IN_PLACE = frozenset({"text_lt", "escaped_lt", "link_tail"})


def neutralise_markdown(text: str) -> str:
    """`text` with raw HTML shown as text and links to other schemes shown as text."""
    # markdown-it normalises line breaks and NUL first; doing it here keeps offsets aligned.
    text = _LINE_BREAKS.sub("\n", text).replace("\0", "\ufffd")
    if not _MAY_CARRY_SCRIPT.search(text):
        return text
    original = text
    for _ in range(_MAX_PASSES):
        scan = _scan_all(text)
        if scan is None:
            break
        if not scan.edits:
            return text
        text = _apply(text, scan.edits)
        if not scan.uncovers:
            return text
    return _as_code_block(original)  # as the model wrote it


@dataclass
class _Scan:
    edits: dict[int, str] = field(default_factory=dict)  # text offset -> replacement
    uncovers: bool = False  # whether an edit may uncover syntax: parse again
    hopeless: bool = False
    table_blocks: list[tuple[int, int]] = field(default_factory=list)  # line ranges


def _scan_all(text: str) -> _Scan | None:
    """What neutralises `text`, with and without GFM tables; None if it cannot be vouched for."""
    scan = _scan(text, tables=True)
    if scan.hopeless:
        return None
    if scan.table_blocks:
        plain = _scan_blocks(text, scan.table_blocks)
        if plain is None:
            return None
        scan.edits.update(plain.edits)
        scan.uncovers |= plain.uncovers
    return scan


def _scan_blocks(text: str, blocks: list[tuple[int, int]]) -> _Scan | None:
    """`_scan` without tables of these blocks only (a blank line between), mapped back."""
    lines = Lines(text)
    pieces, origins, offset = [], [], 0  # origins: (offset in the pieces, offset in `text`)
    for first, stop in blocks:
        start, end = lines.start(first), lines.end(stop - 1)
        origins.append((offset, start))
        pieces.append(text[start:end])
        offset += end - start + 2
    scan = _scan("\n\n".join(pieces), tables=False)
    if scan.hopeless:
        return None
    starts = [piece_start for piece_start, _ in origins]
    mapped = {}
    for pos, replacement in scan.edits.items():
        piece_start, text_start = origins[bisect_right(starts, pos) - 1]
        mapped[text_start + pos - piece_start] = replacement
    scan.edits = mapped
    return scan


def _apply(text: str, edits: dict[int, str]) -> str:
    pieces, last = [], 0
    for pos in sorted(edits):
        pieces += [text[last:pos], edits[pos]]
        last = pos + 1
    pieces.append(text[last:])
    return "".join(pieces)


def _as_code_block(text: str) -> str:
    """All of `text`, literally: a tilde fence longer than any run of tildes in it never ends."""
    longest = max((len(run) for run in re.findall(r"~+", text)), default=0)
    fence = "~" * max(3, longest + 1)
    return f"{fence}\n{text}\n{fence}\n"


# -- one parse ------------------------------------------------------------------------------------


def _scan(text: str, *, tables: bool) -> _Scan:
    tokens, found, too_deep = parse(text, tables=tables)
    if too_deep:
        return _Scan(hopeless=True)
    lines = Lines(text)
    scan = _Scan(table_blocks=_blocks_with_tables(tokens) if tables else [])
    _neutralise_blocks(text, lines, tokens, scan)
    if found:
        sources = InlineSources(text, lines, tokens)
        for one in found:
            scan.uncovers |= _neutralise_inline(text, lines, sources, one, scan.edits)
    return scan


def _neutralise_blocks(text: str, lines: Lines, tokens: list[Token], scan: _Scan) -> None:
    """HTML blocks, definitions, and indented code that other renderers may read as text."""
    definition_end = -1  # the line after the last definition
    for token in tokens:
        if not token.map:
            continue
        numbers = range(*token.map)
        if token.type == "html_block":
            _escape_lines(text, lines, numbers, scan.edits)
            scan.uncovers = True
        elif token.type == "code_block" and numbers.start == definition_end:
            # CommonMark reads definitions out of a paragraph, and an indented line cannot
            # interrupt one: to cmark (GitHub) this "code" is text, links and tags and all.
            _escape_lines(text, lines, numbers, scan.edits, brackets=True)
        elif token.type == "code_block":
            _escape_tab_indented_code(text, lines, numbers, scan.edits)
        elif token.type == "definition":
            definition_end = numbers.stop
            url = token.meta["url"]
            scan.uncovers |= _neutralise_definition(text, lines, numbers, url, scan.edits)


def _blocks_with_tables(tokens: list[Token]) -> list[tuple[int, int]]:
    """The line ranges of the top-level blocks that hold a table."""
    blocks = [tuple(t.map) for t in tokens if t.level == 0 and t.nesting >= 0 and t.map]
    tables = [t.map[0] for t in tokens if t.type == "table_open" and t.map]
    chosen = {block for block in blocks for line in tables if block[0] <= line < block[1]}
    return sorted((first, stop) for first, stop in chosen)


def _neutralise_definition(
    text: str, lines: Lines, numbers: range, url: str, edits: dict[int, str]
) -> bool:
    """A definition to another scheme broken (its uses then stay text); every `<` but a
    bracketed destination's as `&lt;` (markdown-it reads `\\<tab>` on in a destination where
    CommonMark ends it, so what markdown-it takes for a definition may be a paragraph).
    Returns whether a re-parse is needed."""
    start, end = lines.start(numbers.start), lines.end(numbers.stop - 1)
    opener = _DEFINITION_DESTINATION.search(text, start, end)
    keep = opener.end() - 1 if opener else -1
    for pos in range(start, end):
        if text[pos] == "<" and pos != keep:
            edits[pos] = "&lt;"
    if is_safe_destination(url):
        return False
    # The definition's `[` is the line's first: container markers hold none.
    edits[text.index("[", start)] = "\\["
    return True


def _replacements(one: Found) -> list[tuple[int, str]]:
    """(offset in the owner's content, what replaces the character there)."""
    content, start = one.owner.content, one.start
    if one.kind == "html_inline":
        return [(i, "&lt;") for i in range(start, one.end) if content[i] == "<"]
    if one.kind == "glued_code":  # to the end: others read it as Markdown, links and all
        return [(i, _ENTITY[content[i]]) for i in range(start, len(content)) if content[i] in "<["]
    if one.kind == "link_tail":  # `](<dest> "title")`: all but a bracketed destination's `<`
        opener = _BRACKETED_DESTINATION.match(content, start)
        keep = opener.end() - 1 if opener else -1
        return [(i, "&lt;") for i in range(start, one.end) if content[i] == "<" and i != keep]
    if one.kind == "text_bracket":
        return [(start, "\\[")] if start < _last_loose_link(one.owner) else []
    if one.kind == "escaped_lt":
        return [(start, ""), (start + 1, "&lt;")]
    if one.kind == "link":
        return [(start, "\\[")]
    if one.kind == "image":
        return [(start + 1, "\\[")]  # after the `!`
    return [(start, "&lt;")]  # an autolink's or a text `<`


def _last_loose_link(owner: Token) -> int:
    """Where the last destination to another scheme after a `]` is in `owner.content`, loosely
    read; -1 if none. Remembered on the token: every text `[` asks."""
    if "yj_loose" not in owner.meta:
        unsafe = [
            m.start()
            for m in _LOOSE_DESTINATION.finditer(owner.content)
            if not is_safe_destination(m.group(1) if m.group(1) is not None else m.group(2))
        ]
        owner.meta["yj_loose"] = unsafe[-1] if unsafe else -1
    return int(owner.meta["yj_loose"])


def _neutralise_inline(
    text: str, lines: Lines, sources: InlineSources, one: Found, edits: dict[int, str]
) -> bool:
    """Edits for one construct; returns whether a re-parse is needed."""
    replacements = _replacements(one)
    for point, replacement in replacements:
        pos = sources.source_of(one.owner, point)
        if pos is None:  # not mapped (never seen): escape the owner's whole lines instead
            numbers = range(*(one.owner.map or (0, lines.count)))
            _escape_lines(text, lines, numbers, edits, brackets=True)
            return True
        edits[pos] = replacement
    if not replacements or one.kind in _IN_PLACE:
        return False
    content = one.owner.content
    return not (one.kind == "html_inline" and _INERT_TAG.fullmatch(content, one.start, one.end))


def _escape_tab_indented_code(
    text: str, lines: Lines, numbers: range, edits: dict[int, str]
) -> None:
    """Indented code whose indent holds a tab: mistune counts tabs otherwise (`> > \t<b>` is a
    paragraph to it), so its `<` go as `&lt;`, at the cost of showing so in this code."""
    for number in numbers:
        line = text[lines.start(number) : lines.end(number)]
        indent = line[: len(line) - len(line.lstrip(" \t>"))]
        if "\t" in indent:
            _escape_lines(text, lines, range(number, number + 1), edits)


def _escape_lines(
    text: str, lines: Lines, numbers: range, edits: dict[int, str], *, brackets: bool = False
) -> None:
    """Every `<` (and with `brackets`, every `[`) on these lines as an entity, code or not."""
    for number in numbers:
        for pos in range(lines.start(number), lines.end(number)):
            if text[pos] == "<":
                edits[pos] = "&lt;"
            elif brackets and text[pos] == "[":
                edits[pos] = "&#91;"
