"""Permission denied, for real: root reads any file whatever its mode, so the server is run
as the unprivileged user `nobody` (setpriv) over a small kernel whose sources are not
readable by it, the way tracefs (mode 0700) is not readable by a normal user."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bpf_mcp.sources import Source

from .conftest import FAULT_SOURCES, SmallKernel

pytestmark = pytest.mark.slow

CHILD = r"""
import json, sys
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
    print(json.dumps({"tools": tools, "status": status.structured_content}))

trio.run(main, sys.argv[1])
"""

NEEDED_BY = {
    Source.TRACEFS: "list_tracepoints",
    Source.KALLSYMS: "list_kernel_functions",
    Source.BTF: "get_btf_types",
    Source.REFERENCE: "list_bpf_program_types",
}


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

    done = subprocess.run(
        [
            "setpriv",
            f"--reuid={nobody.pw_uid}",
            f"--regid={nobody.pw_gid}",
            "--clear-groups",
            sys.executable,
            "-c",
            CHILD,
            str(kernel.root),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd="/",
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    for source in FAULT_SOURCES:
        is_error, text = report["tools"][NEEDED_BY[source]]
        assert is_error, (source, text)
        assert "permission denied" in text and "To fix:" in text, text
        (status,) = [s for s in report["status"]["sources"] if s["source"] == source.value]
        assert status["last_error"]["cause"] == "permission", status
        assert status["last_error"]["fix"]
    tracefs = report["tools"]["list_tracepoints"][1]
    assert "run bpf-mcp as root" in tracefs
