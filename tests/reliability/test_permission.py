"""Permission denied, for real: root reads any file whatever its mode, so the server is run
as the unprivileged user `nobody` (setpriv) over a small kernel whose sources are not
readable by it, the way tracefs (mode 0700) is not readable by a normal user.

The checkout, its .venv and even the interpreter may sit where `nobody` cannot enter (a
clone under /root, mode 0700; a pyenv Python), so the child runs from a copy of what it
needs (the interpreter, its standard library, bpf-mcp and the distributions it depends
on) in a temporary directory every user can read."""

from __future__ import annotations

import importlib.metadata
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import bpf_mcp
from bpf_mcp.sources import Source

from .conftest import FAULT_SOURCES, SmallKernel

pytestmark = pytest.mark.slow

CHILD = r"""
import json, os, sys
import trio
from pathlib import Path
from bpf_mcp.api import open_bpf_mcp, default_readers
from bpf_mcp.config import Config
from bpf_mcp.readers.reference import ReferenceReader
from bpf_mcp.sources import Source
from bpf_mcp.transports.server import call_tool

async def main(root: str) -> None:
    reference = ReferenceReader(Path(root) / "reference/data.json")
    readers = [reference if r.source == Source.REFERENCE else r for r in default_readers()]
    config = Config(sysroot=Path(root), load_wait=10.0)
    async with open_bpf_mcp(config, readers=readers) as handle:
        tools = {}
        for name in ("list_tracepoints", "list_kernel_functions", "get_btf_types",
                     "list_bpf_program_types"):
            result = await call_tool(handle, name, {})
            tools[name] = [bool(result.is_error), result.content[0].text]
        status = await call_tool(handle, "get_server_status", {})
    print(json.dumps({"uid": os.geteuid(), "tools": tools, "status": status.structured_content}))

trio.run(main, sys.argv[1])
"""

NEEDED_BY = {
    Source.TRACEFS: "list_tracepoints",
    Source.KALLSYMS: "list_kernel_functions",
    Source.BTF: "get_btf_types",
    Source.REFERENCE: "list_bpf_program_types",
}


STDLIB_LEFT_OUT = shutil.ignore_patterns(
    "site-packages", "dist-packages", "test", "idlelib", "tkinter", "turtledemo", "ensurepip",
    "lib2to3", "config-*", "*.opt-1.pyc", "*.opt-2.pyc",
)  # fmt: skip
"""Parts of the standard library the child never imports or reads."""


REQUIREMENT = re.compile(
    r"([A-Za-z0-9._-]+)\s*(?:\[([^\]]*)\])?[^;]*(?:;.*\bextra\s*==\s*[\"']([^\"']+))?"
)
"""A requirement's name, the extras it asks for, and the extra it is needed for, if any."""


def requirements(name: str) -> set[str]:
    """`name` and every distribution it needs (with the extras each asks for), as installed
    here; requirements of extras nobody asks for are left out."""
    found: set[str] = set()
    seen: set[tuple[str, str]] = set()
    wanted = [(name, "")]
    while wanted:
        name, extras = wanted.pop()
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue  # a requirement for another platform or Python
        if (distribution.name, extras) in seen:
            continue
        seen.add((distribution.name, extras))
        found.add(distribution.name)
        for requirement in distribution.requires or []:
            match = REQUIREMENT.match(requirement)
            if match and match[3] in (None, *(e.strip() for e in extras.split(","))):
                wanted.append((match[1], match[2] or ""))
    return found


def copy_runtime(into: Path) -> tuple[list[str], dict[str, str]]:
    """This Python (interpreter, shared library, standard library) and bpf-mcp with what it
    needs, copied under `into` where every user can read them; returns the command that
    runs that Python with only the copy on its path (`-S`: no site-packages), and the
    environment it needs."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    stdlib = into / sys.platlibdir / version
    shutil.copytree(
        Path(os.__file__).parent, stdlib, ignore=STDLIB_LEFT_OUT, ignore_dangling_symlinks=True
    )
    for entry in sys.path:
        if Path(entry).name == "lib-dynload" and not (stdlib / "lib-dynload").exists():
            shutil.copytree(entry, stdlib / "lib-dynload")
    (into / "lib").mkdir(exist_ok=True)
    with open("/proc/self/maps") as maps:
        shared = {line.split()[-1] for line in maps if "/libpython" in line}
    for library in shared:
        shutil.copy2(library, into / "lib")
    site = into / "site"
    shutil.copytree(Path(bpf_mcp.__file__).parent, site / "bpf_mcp")
    for name in requirements("bpf-mcp"):
        distribution = importlib.metadata.distribution(name)
        for file in distribution.files or []:
            source = Path(str(distribution.locate_file(file)))
            if file.parts[0] != ".." and source.is_file():
                (site / file).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, site / file)
    python = into / "bin" / version
    python.parent.mkdir()
    shutil.copy2(Path(getattr(sys, "_base_executable", sys.executable)).resolve(), python)
    for path in [into, *into.rglob("*")]:
        executable = path.is_dir() or path.stat().st_mode & 0o100
        path.chmod(0o755 if executable else 0o644)
    environment = {
        **os.environ,
        "PYTHONHOME": str(into),
        "PYTHONPATH": str(site),
        "LD_LIBRARY_PATH": str(into / "lib"),
    }
    return [str(python), "-S"], environment


def _nobody() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user 'nobody' to drop privileges to")


@pytest.fixture
def shared_root() -> Iterator[Path]:
    """A directory the unprivileged user can traverse (pytest's tmp_path is root-only)."""
    path = Path(tempfile.mkdtemp(prefix="bpf-mcp-perm-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to another user")
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) is absent")
def test_unreadable_sources_name_permission_and_the_fix(shared_root: Path) -> None:
    nobody = _nobody()
    kernel = SmallKernel.build(shared_root / "root")
    for directory in [kernel.root, *kernel.root.rglob("*")]:
        if directory.is_dir():
            directory.chmod(0o755)
        else:
            directory.chmod(0o644)
    (kernel.root / "sys/kernel/tracing").chmod(0o700)  # as the kernel mounts it
    for source in FAULT_SOURCES:
        if source != Source.TRACEFS:
            kernel.path(source).chmod(0o000)

    python, environment = copy_runtime(shared_root / "python")
    done = subprocess.run(
        [
            "setpriv",
            f"--reuid={nobody.pw_uid}",
            f"--regid={nobody.pw_gid}",
            "--clear-groups",
            *python,
            "-c",
            CHILD,
            str(kernel.root),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd="/",
        env=environment,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["uid"] == nobody.pw_uid
    for source in FAULT_SOURCES:
        is_error, text = report["tools"][NEEDED_BY[source]]
        assert is_error, (source, text)
        assert "permission denied" in text and "To fix:" in text, text
        (status,) = [s for s in report["status"]["sources"] if s["source"] == source.value]
        assert status["last_error"]["cause"] == "permission", status
        assert status["last_error"]["fix"]
    tracefs = report["tools"]["list_tracepoints"][1]
    assert "run bpf-mcp as root" in tracefs
