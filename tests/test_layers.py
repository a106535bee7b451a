"""The import graph of src/bpf_mcp: one-way layers and no cycles.

Every import inside the package counts, wherever it is written (module level, inside a
function, under TYPE_CHECKING): a function-local import is still a dependency.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

import bpf_mcp

PACKAGE = Path(bpf_mcp.__file__).parent

LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "sources", "textindex"),
    ("status",),
    ("btf", "kallsyms", "tracefs", "system", "reference", "loaded", "bpftrace"),
    ("preflight",),
    ("snapshot",),
    ("config", "results", "schema", "results_compare"),
    ("queries", "convert"),
    ("tools",),
    ("index",),
    ("answers", "messages"),
    ("readers", "router"),
    ("kernels",),
    ("api",),
    ("transports",),
    ("calltool", "snapshotcmd"),
    ("cli",),
    ("__init__", "__main__"),
    ("testing",),
)
"""Each unit may import its own modules and units of lower layers only."""


PARSERS = ("btf", "kallsyms", "tracefs", "system", "reference", "loaded", "bpftrace", "preflight")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> Iterator[str]:
    """The bpf_mcp modules `path` imports, absolute, wherever the import statement is."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("bpf_mcp"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            elif node.module and node.module.startswith("bpf_mcp"):
                target = node.module
            else:
                continue
            # `from . import x` names a module x, or a name x of the package itself.
            modules = [f"{target}.{a.name}" for a in node.names if _exists(f"{target}.{a.name}")]
            yield from modules
            if len(modules) < len(node.names):
                yield target


def _exists(module: str) -> bool:
    relative = Path(*module.split(".")[1:])
    return (PACKAGE / relative).with_suffix(".py").is_file() or (
        PACKAGE / relative / "__init__.py"
    ).is_file()


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        source = module_name(path)
        edges.setdefault(source, set()).update(t for t in imports_of(path) if t != source)
    return edges


def unit(module: str) -> str:
    """The top-level module or subpackage of bpf_mcp a module belongs to."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def layer(name: str) -> int:
    for rank, names in enumerate(LAYERS):
        if name in names:
            return rank
    raise AssertionError(f"bpf_mcp.{name} is in no layer: add it to LAYERS")


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []
    counter = itertools.count()

    def visit(node: str) -> None:
        index[node] = low[node] = next(counter)
        stack.append(node)
        for succ in edges.get(node, ()):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_a_cycle() -> None:
    assert cycles(graph()) == []


def test_units_import_only_lower_layers() -> None:
    wrong = sorted(
        f"{source} imports {target}"
        for source, targets in graph().items()
        for target in targets
        if unit(source) != unit(target) and layer(unit(target)) >= layer(unit(source))
    )
    assert wrong == []


def test_no_unit_cycle() -> None:
    units: dict[str, set[str]] = {}
    for source, targets in graph().items():
        units.setdefault(unit(source), set()).update(
            unit(t) for t in targets if unit(t) != unit(source)
        )
    assert cycles(units) == []


@pytest.mark.parametrize("parser", PARSERS)
def test_parsers_do_no_io_and_know_no_actor(parser: str) -> None:
    for path in (PACKAGE / parser).rglob("*.py"):
        tree = ast.parse(path.read_text())
        names = {
            alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        } | {
            (node.module or "").split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and not node.level
        }
        assert not names & {"trio", "anyio", "mcp", "hypercorn", "socket"}, path


def test_transports_reach_the_router_only_through_the_api() -> None:
    inner = {"router", "index", "answers", "readers", "messages"}
    for source, targets in graph().items():
        if unit(source) == "transports":
            assert not {unit(t) for t in targets} & inner, source


def test_transports_do_not_import_each_other_shells() -> None:
    shells = {"bpf_mcp.transports.stdio", "bpf_mcp.transports.http"}
    for source, targets in graph().items():
        if unit(source) == "transports":
            assert not (targets & shells) - {source}, source


def test_the_graph_is_read() -> None:
    # A walker that found nothing would pass every rule above.
    edges = graph()
    assert "bpf_mcp.answers" in edges["bpf_mcp.router.actor"]
    assert "bpf_mcp.api" in edges["bpf_mcp.transports.calls"]
    assert sum(map(len, edges.values())) > 150
