"""Filling `{name}` in a %%yj_chat prompt from the user's namespace.

Rules (``--raw`` turns all of this off):

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

__all__ = ["PromptError", "interpolate"]

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


def _fail(field: str, what: str) -> PromptError:
    return PromptError(
        f"{{{field}}} in the prompt: {what}; define it, write {{{{{field}}}}} for literal "
        "braces, or use --raw"
    )


def resolve(field: str, namespace: Mapping[str, Any]) -> Any:
    """The value of a field expression such as `Out[5]` or `df.shape`."""
    match = _FIELD.fullmatch(field)
    if match is None:
        raise PromptError(f"{{{field}}} is not a name")
    name, rest = match.group(1), match.group(2)
    if name not in namespace:
        raise _fail(field, f"no variable named {name!r}")
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
            raise _fail(field, f"{step.group(0)} failed ({type(exc).__name__}: {exc})") from None
    return value


def interpolate(text: str, namespace: Mapping[str, Any]) -> str:
    """`text` with its fields filled (see the module's rules)."""
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
                out.append(str(resolve(inner, namespace)))
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
