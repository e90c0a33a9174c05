"""The notebook layer's import graph: no cycles, and nothing but the loader imports the magics.

grimp (installed with import-linter) sees function-level imports too, so a lazy import that
closes a loop counts; imports under `if TYPE_CHECKING:` do not.
"""

from __future__ import annotations

from typing import Any

import pytest

grimp = pytest.importorskip("grimp")

LAYER = "yjnb.notebook"


@pytest.fixture(scope="module")
def graph() -> Any:
    return grimp.build_graph("yjnb", exclude_type_checking_imports=True)


def _layer_edges(graph: Any) -> dict[str, set[str]]:
    modules = {m for m in graph.modules if m == LAYER or m.startswith(LAYER + ".")}
    return {m: graph.find_modules_directly_imported_by(m) & modules for m in modules}


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle among `edges`, as the list of its modules; None if there is none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for target in sorted(edges[module]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        path.pop()
        state[module] = 2
        return None

    for module in sorted(edges):
        if module not in state and (found := visit(module)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycle(edges) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles_in_the_notebook_layer(graph: Any) -> None:
    edges = _layer_edges(graph)
    assert len(edges) > 20  # the layer was found
    assert _cycle(edges) is None, " -> ".join(_cycle(edges) or [])


def test_only_the_extension_loader_imports_the_magics(graph: Any) -> None:
    assert graph.find_modules_that_directly_import(f"{LAYER}.magics") == {LAYER}


def test_commands_services_and_views_do_not_import_upwards(graph: Any) -> None:
    """Services, views and widgets never import a command; views never import a service."""
    edges = _layer_edges(graph)
    for module, targets in edges.items():
        part = module.removeprefix(LAYER + ".").split(".")[0]
        if part in ("services", "views", "widgets"):
            assert not {t for t in targets if t.startswith(f"{LAYER}.commands")}, module
        if part == "views":
            assert not {t for t in targets if t.startswith(f"{LAYER}.services")}, module
