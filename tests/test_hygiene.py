"""Tests use bpf_mcp through its public names only, the way an embedder can; tests,
bench and scripts share helpers through bpf_mcp.testing, never through each other.

A test that needs a private name either tests through the public function that uses it,
or the name is a real seam and is made public in src. Found by reading every file under
tests/ with ast: `from bpf_mcp.x import _y`, `import bpf_mcp._x`, `module._y` on a name
bound to a bpf_mcp import, `setattr(module, "_y", ...)` and "bpf_mcp.x._y" strings.
Under tests/, bench/, scripts/ and examples/ no file edits `sys.path` or imports
another of those trees.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
TREES = ("tests", "bench", "scripts", "examples")
CROSSING: set[str] = set()
"""Known crossings (none: what the trees share lives in bpf_mcp.testing)."""

PRIVATE_PATH = re.compile(r"bpf_mcp(\.\w+)*\._(?!_)\w*")


def private(name: str) -> bool:
    """`_name`, not `__dunder__`."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def root_name(node: ast.expr) -> str | None:
    """The name an attribute chain `a.b.c` starts from (`a`), if it starts from a name."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def bpf_mcp_module(module: str | None) -> bool:
    return module is not None and module.split(".")[0] == "bpf_mcp"


def private_uses(source: str, filename: str = "<test>") -> Iterator[str]:
    """Each private bpf_mcp name `source` reaches, as `line: what`."""
    tree = ast.parse(source, filename)
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and not node.level and bpf_mcp_module(node.module):
            assert node.module is not None
            for alias in node.names:
                dotted = f"{node.module}.{alias.name}"
                if any(map(private, dotted.split("."))):
                    yield f"{node.lineno}: from {node.module} import {alias.name}"
                bound.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if bpf_mcp_module(alias.name):
                    if any(map(private, alias.name.split("."))):
                        yield f"{node.lineno}: import {alias.name}"
                    bound.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and private(node.attr):
            if root_name(node.value) in bound:
                yield f"{node.lineno}: {ast.unparse(node)}"
        elif isinstance(node, ast.Call) and len(node.args) >= 2:
            target, name = node.args[0], node.args[1]
            if (
                root_name(target) in bound
                and isinstance(name, ast.Constant)
                and isinstance(name.value, str)
                and private(name.value)
            ):
                yield f"{node.lineno}: {ast.unparse(node)}"
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and PRIVATE_PATH.fullmatch(node.value)
        ):
            yield f"{node.lineno}: {node.value!r}"


def test_tests_reach_no_private_bpf_mcp_name() -> None:
    found = [
        f"{path.relative_to(TESTS.parent)}:{use}"
        for path in sorted(TESTS.rglob("*.py"))
        for use in private_uses(path.read_text(), str(path))
    ]
    assert found == []


def test_every_form_of_private_use_is_found() -> None:
    # A walker that found nothing would pass the test above.
    source = """
from bpf_mcp.readers.tracefs import _read_batch, locate
from bpf_mcp.btf._format import Header
import bpf_mcp._private
import bpf_mcp.convert
from bpf_mcp.tracefs import format as fmt
from bpf_mcp.index import indexes

fmt._parse_any("")
bpf_mcp.convert._dumps({})
indexes._MALLOC_TRIM(0)
monkeypatch.setattr(indexes, "_MALLOC_TRIM", None)
monkeypatch.setattr("bpf_mcp.index.indexes._MALLOC_TRIM", None)
fmt.parse_format("").__class__
other._private
"""
    lines = sorted(int(use.split(":")[0]) for use in private_uses(source))
    assert lines == [2, 3, 4, 9, 10, 11, 12, 13]


def is_sys_path(node: ast.expr) -> bool:
    """`sys.path`, or a slice or item of it."""
    while isinstance(node, ast.Subscript):
        node = node.value
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "path"
        and isinstance(node.value, ast.Name)
        and node.value.id == "sys"
    )


def assigned(node: ast.AST) -> list[ast.expr]:
    """What an assignment statement assigns to; nothing for any other node."""
    if isinstance(node, ast.Assign):
        return node.targets
    if isinstance(node, ast.AugAssign | ast.AnnAssign):
        return [node.target]
    return []


def crossings(source: str, tree: str, filename: str = "<file>") -> Iterator[str]:
    """Each import `source` (a file of `tree`) makes of another tree, and each edit of
    sys.path (a call of one of its methods, an assignment to it or into it), as `what`."""
    for node in ast.walk(ast.parse(source, filename)):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            modules = [node.module]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and is_sys_path(node.func.value)
        ) or (
            isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign)
            and any(
                is_sys_path(t) for t in getattr(node, "targets", [getattr(node, "target", None)])
            )
        ):
            yield f"edits sys.path (line {node.lineno})"
        for module in modules:
            top = module.split(".")[0]
            if top in TREES and top != tree:
                yield f"imports {top}"


def test_tests_bench_and_scripts_share_through_bpf_mcp_testing() -> None:
    found = {
        f"{path.relative_to(REPO)}: {what}"
        for tree in TREES
        for path in sorted((REPO / tree).rglob("*.py"))
        for what in crossings(path.read_text(), tree, str(path))
    }
    assert found - CROSSING == set()


def test_every_crossing_is_found() -> None:
    source = """
import sys
from scripts.readme_examples import examples
import bench.rawclient
from tests.btf import pahole
from bpf_mcp.testing import pahole as mine
from .conftest import FIXTURE
sys.path.insert(0, "..")
sys.path[:0] = [".."]
sys.path += [".."]
sys.path = []
dynload = [entry for entry in sys.path if entry.endswith("lib-dynload")]
"""
    assert sorted(crossings(source, "tests")) == [
        "edits sys.path (line 10)",
        "edits sys.path (line 11)",
        "edits sys.path (line 8)",
        "edits sys.path (line 9)",
        "imports bench",
        "imports scripts",
    ]
