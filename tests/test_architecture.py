"""The shape of the package (issue #12): protocol decisions live in `yjnb.protocols` only.

The layers and the absence of import cycles are import-linter contracts (`make lint`,
`[tool.importlinter]` in pyproject.toml); what they cannot see is checked here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import yjnb
from yjnb.protocols import NAMES

PACKAGE = Path(yjnb.__file__).parent
PROTOCOL_WORDS = frozenset({*NAMES, "legacy"})


def _is_protocol(node: ast.AST) -> bool:
    """A protocol name literal, a collection of them, or a `protocol` variable or attribute."""
    if isinstance(node, ast.Constant):
        return node.value in PROTOCOL_WORDS
    if isinstance(node, (ast.Set, ast.Tuple, ast.List)):
        return any(_is_protocol(e) for e in node.elts)
    if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("frozenset", "set"):
        return any(_is_protocol(a) for a in node.args)
    if isinstance(node, ast.Attribute):
        return node.attr == "protocol"
    return isinstance(node, ast.Name) and node.id == "protocol"


def protocol_comparisons(root: Path) -> list[str]:
    """`file:line` of every comparison that asks which protocol something is."""
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare) and any(
                _is_protocol(side) for side in (node.left, *node.comparators)
            ):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    return found


def test_protocol_decisions_live_in_the_protocols() -> None:
    outside = [
        place
        for place in protocol_comparisons(PACKAGE)
        if not place.startswith(("protocols/", "emulator/"))
    ]
    assert [p for p in outside if p.startswith("notebook/")] == []
    assert len(outside) <= 6, outside


def test_the_counter_sees_comparisons(tmp_path: Path) -> None:
    """The check above must be able to fail: it finds the shapes the old code had."""
    (tmp_path / "m.py").write_text(
        'if s.protocol == "gateway": pass\n'
        'if protocol in ("openai", "gateway"): pass\n'
        'OPENAI_STYLE = frozenset({"openai"})\nif p in OPENAI_STYLE: pass\n'
        'if p not in frozenset({"openai", "gateway"}): pass\n',
        encoding="utf-8",
    )
    global PACKAGE
    saved, PACKAGE = PACKAGE, tmp_path
    try:
        assert protocol_comparisons(tmp_path) == ["m.py:1", "m.py:2", "m.py:5"]
    finally:
        PACKAGE = saved


def test_one_default_model_table_per_protocol() -> None:
    """Default model names appear in the protocols only (not in the client or the magics)."""
    defaults = {"qwen3-max", "wan2.2-t2i-flash", "viduq3-pro", "gemini-2.5-flash", "gpt-4o-mini"}
    places = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.relative_to(PACKAGE).parts[0] in ("protocols", "emulator"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in defaults:
                places.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert places == []
