"""Filling `{name}` in a prompt: a %%yj_chat cell from the user's namespace, an experiment's
template from a data row (`yjnb.experiment`). One set of rules for both (``--raw`` turns all
of this off in the magic):

* ``{name}``, ``{name.attr}``, ``{name[0]}``, ``{name['key']}`` (and chains of them) are
  replaced by ``str()`` of the value, looked up in the user's namespace, so ``{In[3]}`` and
  ``{Out[5]}`` work. A bare word in brackets is a string key, as in ``str.format``:
  ``{d[key]}`` is ``d["key"]``. No format specs or conversions.
* A name that does not exist (or an attribute or key that does not) is an error naming it.
* ``{{name}}`` is the literal text ``{name}``; a ``{{`` or ``}}`` outside any brace group is
  a literal ``{`` or ``}``.
* Anything else in braces is left exactly as written, including nested groups and any
  ``{{``/``}}`` inside them, so code and JSON pass through unchanged: ``{"a": {"b": 1}}``,
  ``{k: v for k in d}``, ``{ name }`` (spaces: not a field), ``${HOME}`` (a ``$`` before
  the brace: shell and JavaScript template syntax).

Braces are matched as groups, innermost first, with a stack: a group is only a field when
its whole content is a field expression.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["PromptError", "field_names", "interpolate", "resolve"]

_NAME = r"[^\W\d]\w*"
_STEP = re.compile(rf"\.({_NAME})|\[(-?\d+)\]|\[({_NAME})\]|\['([^'\]]*)'\]|\[\"([^\"\]]*)\"\]")
_FIELD = re.compile(rf"({_NAME})((?:{_STEP.pattern})*)")


class PromptError(ValueError):
    """A field that cannot be filled; the message names it and says what to do."""


def _pairs(text: str) -> dict[int, int]:
    """Index of each `{` -> index of its matching `}` (unmatched braces have no entry)."""
    stack: list[int] = []
    pairs: dict[int, int] = {}
    for i, c in enumerate(text):
        if c == "{":
            stack.append(i)
        elif c == "}" and stack:
            pairs[stack.pop()] = i
    return pairs


def _fail(field: str, what: str, advice: str) -> PromptError:
    return PromptError(
        f"{{{field}}} in the prompt: {what}; define it, write {{{{{field}}}}} for literal "
        f"braces{advice}"
    )


def _fields(text: str) -> list[tuple[int, int, str | None]]:
    """The brace groups of `text` as (start, end, field expression or None), in order."""
    pairs = _pairs(text)
    found: list[tuple[int, int, str | None]] = []
    i = 0
    while i < len(text):
        if text[i] == "{" and i in pairs:
            end = pairs[i]
            inner = text[i + 1 : end]
            is_field = _FIELD.fullmatch(inner) and not text.endswith("$", 0, i)
            found.append((i, end, inner if is_field else None))
            i = end + 1
        else:
            i += 1
    return found


def field_names(text: str) -> list[str]:
    """The names (the first word of each field expression) `text` reads, in order, once."""
    names: list[str] = []
    for _, _, inner in _fields(text):
        match = _FIELD.fullmatch(inner) if inner is not None else None
        if match is not None and match.group(1) not in names:
            names.append(match.group(1))
    return names


def resolve(field: str, namespace: Mapping[str, Any], advice: str = "") -> Any:
    """The value of a field expression such as `Out[5]` or `df.shape`."""
    match = _FIELD.fullmatch(field)
    if match is None:
        raise PromptError(f"{{{field}}} is not a name")
    name, rest = match.group(1), match.group(2)
    if name not in namespace:
        raise _fail(field, f"no variable named {name!r}", advice)
    value = namespace[name]
    for step in _STEP.finditer(rest):
        attr, index, word, single, double = step.groups()
        try:
            if attr is not None:
                value = getattr(value, attr)
            elif index is not None:
                value = value[int(index)]
            else:
                value = value[next(k for k in (word, single, double) if k is not None)]
        except Exception as exc:  # AttributeError, KeyError, IndexError, TypeError, a property
            raise _fail(
                field, f"{step.group(0)} failed ({type(exc).__name__}: {exc})", advice
            ) from None
    return value


def interpolate(text: str, namespace: Mapping[str, Any], advice: str = "") -> str:
    """`text` with its fields filled (see the module's rules). `advice` ends the message of
    a field that cannot be filled (the magic adds ", or use --raw")."""
    if "{" not in text and "}" not in text:
        return text
    pairs = _pairs(text)
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "{" and i in pairs:
            end = pairs[i]
            inner = text[i + 1 : end]
            if _FIELD.fullmatch(inner) and not text.endswith("$", 0, i):
                out.append(str(resolve(inner, namespace, advice)))
            elif inner.startswith("{") and pairs.get(i + 1) == end - 1:
                out.append(inner)  # {{...}}: the literal {...}
            else:
                out.append(text[i : end + 1])
            i = end + 1
        elif c in "{}":
            double = text.startswith(c * 2, i) and not (c == "{" and i + 1 in pairs)
            out.append(c)
            i += 2 if double else 1
        else:
            j = min((k for k in (text.find("{", i), text.find("}", i)) if k >= 0), default=n)
            out.append(text[i:j])
            i = j
    return "".join(out)
