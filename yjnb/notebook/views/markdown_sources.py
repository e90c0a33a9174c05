"""Where things are in the text of an answer: its lines, and the characters of the content of
an inline token (a paragraph, heading or table cell, as markdown-it gives it) in the text.
"""

from __future__ import annotations

import itertools
import re

from markdown_it.token import Token

__all__ = ["InlineSources", "Lines"]


class Lines:
    """Line starts of a text, for the line numbers of token maps."""

    def __init__(self, text: str) -> None:
        self._starts = [0, *(m.end() for m in re.finditer("\n", text))]
        self._length = len(text)
        self.count = len(self._starts)

    def start(self, number: int) -> int:
        return self._starts[number]

    def end(self, number: int) -> int:
        """Where the line ends, before its newline."""
        if number + 1 < self.count:
            return self._starts[number + 1] - 1
        return self._length


class InlineSources:
    """Where the characters of an inline token's content are in the text.

    A paragraph's or heading's content lines are its source lines less the container markers
    and indentation in front and, on the last line, trailing blanks (or an ATX closing
    sequence): each is found where its line ends. A table cell is its text in the row, `\\|`
    read as `|`: found in order along the row. Every answer is checked against the text.
    """

    def __init__(self, text: str, lines: Lines, tokens: list[Token]) -> None:
        self._text, self._lines = text, lines
        self._cells: dict[int, list[Token]] = {}  # row line -> its cells, in order
        for before, token in itertools.pairwise(tokens):
            if token.type == "inline" and before.type in ("th_open", "td_open") and token.map:
                self._cells.setdefault(token.map[0], []).append(token)
        self._is_cell = {id(cell) for row in self._cells.values() for cell in row}
        self._starts: dict[int, list[tuple[int, int]] | None] = {}

    def source_of(self, owner: Token, point: int) -> int | None:
        """The text offset of `owner.content[point]`; None if it cannot be found."""
        if id(owner) not in self._starts:
            if id(owner) in self._is_cell and owner.map:
                self._map_row(owner.map[0])
            else:
                self._starts[id(owner)] = self._line_starts(owner)
        starts = self._starts[id(owner)]
        if starts is None:
            return None
        content = owner.content
        content_start, source_start = starts[content.count("\n", 0, point)]
        pos = source_start + point - content_start
        if id(owner) in self._is_cell:
            pos += content.count("|", 0, point)  # each was `\|`
        found = 0 <= pos < len(self._text) and self._text[pos] == content[point]
        return pos if found else None

    def _line_starts(self, owner: Token) -> list[tuple[int, int]] | None:
        """(content offset, text offset) where each content line starts."""
        if not owner.map:
            return None
        pieces = owner.content.split("\n")
        if len(pieces) > owner.map[1] - owner.map[0]:
            return None
        starts, content_start = [], 0
        for offset, piece in enumerate(pieces):
            number = owner.map[0] + offset
            line_start = self._lines.start(number)
            end = _end_of(piece, self._text[line_start : self._lines.end(number)])
            if end is None:
                return None
            starts.append((content_start, line_start + end - len(piece)))
            content_start += len(piece) + 1
        return starts

    def _map_row(self, number: int) -> None:
        line_start = self._lines.start(number)
        row = self._text[line_start : self._lines.end(number)]
        cursor = 0
        for cell in self._cells.get(number, []):
            written = cell.content.replace("|", "\\|")
            found = row.find(written, cursor)
            self._starts[id(cell)] = None if found < 0 else [(0, line_start + found)]
            if found >= 0:
                cursor = found + len(written)


def _end_of(piece: str, line: str) -> int | None:
    """Where `piece`, a content line, ends in its source `line`: at the line's end, before its
    trailing blanks, or before an ATX heading's closing `#`s. Leading blanks of `piece` may be
    added ones (a tab cut by an indent), so only the rest is matched."""
    bare = piece.lstrip(" \t")
    found = line.rfind(bare)
    for end in (len(line), len(line.rstrip(" \t")), len(line.rstrip()), found + len(bare)):
        if end >= len(bare) and line[:end].endswith(bare):
            return end
    return None
