"""docs/container.md, followed literally: its build command, its host settings, then its
stdio run command as an MCP server (initialize and tools/list through the SDK client), and
its HTTP run command with a mapped port and a token (its health check, tools/list with the
token, and the 421 without it).

Building the image takes a minute or two (more when the base image must be made first),
so this runs only when asked (`BPF_MCP_CONTAINER_TESTS=1`) or in CI, and only as root
where podman exists."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
from pathlib import Path

import httpx2
import pytest
import trio
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from bpf_mcp.tools import TOOLS

REPO = Path(__file__).resolve().parent.parent
HTTP_CONTAINER = "bpf-mcp-http"
HTTP_URL = "http://127.0.0.1:18404"
DOC = (REPO / "docs" / "container.md").read_text()
MARKED = re.compile(r"<!-- container-doc: (\w+) -->\n```sh\n(.*?)```\n", re.DOTALL)


def skip_reason() -> str | None:
    """Why the container test cannot or need not run here, or None."""
    asked = os.environ.get("BPF_MCP_CONTAINER_TESTS") == "1"
    if not asked and os.environ.get("CI", "").lower() != "true":
        return "the podman build is slow: set BPF_MCP_CONTAINER_TESTS=1 (or CI=true) to run it"
    if shutil.which("podman") is None:
        return "podman is not installed"
    if os.geteuid() != 0:
        return "docs/container.md's commands run as root; this user is not"
    return None


def marked(name: str) -> str:
    """The shell block of docs/container.md marked `<!-- container-doc: NAME -->`."""
    found: dict[str, str] = dict(MARKED.findall(DOC))
    assert name in found, f"docs/container.md has no block marked {name}"
    return found[name]


def test_the_marked_blocks_are_there() -> None:
    assert {"build", "host", "stdio", "http"} <= set(dict(MARKED.findall(DOC)))


def test_the_readme_client_configuration_runs_the_stdio_command() -> None:
    """So the test below, running the stdio command, runs the README's podman client too."""
    readme = (REPO / "README.md").read_text()
    configs = [json.loads(m) for m in re.findall(r"```json\n(.*?)```", readme, re.DOTALL)]
    podman = [
        server
        for config in configs
        for server in config.get("mcpServers", {}).values()
        if server.get("command") == "podman"
    ]
    assert podman, "the README has no podman client configuration"
    documented = shlex.split(marked("stdio").replace("\\\n", " "))
    assert [podman[0]["command"], *podman[0]["args"]] == documented


@pytest.mark.slow
@pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or "")
async def test_build_then_stdio_as_documented() -> None:
    with trio.fail_after(1200):  # making the base image and building: minutes, not hours
        build = await trio.run_process(
            ["bash", "-euo", "pipefail", "-c", marked("build")],
            cwd=REPO,
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    assert build.returncode == 0, build.stderr.decode()[-4000:]

    script = f"{marked('host')}\nexec {marked('stdio')}"
    server = StdioServerParameters(
        command="bash", args=["-euc", script], env=dict(os.environ), cwd=REPO
    )
    with trio.fail_after(180):
        async with Client(server, mode="legacy") as client:
            listed = await client.list_tools()
    assert [t.name for t in listed.tools] == [t.name for t in TOOLS]


async def http_as_documented() -> tuple[str, str]:
    """Run the host settings and HTTP blocks; the health check's answer (their output's
    last line, after podman's container id), and the token they chose."""
    script = f'{marked("host")}\n{marked("http")}\necho; echo "token=$BPF_MCP_TOKEN"'
    done = await trio.run_process(
        ["bash", "-euc", script], cwd=REPO, capture_stdout=True, capture_stderr=True, check=False
    )
    assert done.returncode == 0, done.stderr.decode()[-4000:]
    output, _, token_line = done.stdout.decode().rstrip("\n").rpartition("\n")
    return output.rpartition("\n")[2], token_line.removeprefix("token=")


@pytest.mark.slow
@pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or "")
async def test_http_with_a_mapped_port_and_a_token_as_documented() -> None:
    assert HTTP_URL in marked("http") and HTTP_CONTAINER in marked("http")
    try:
        with trio.fail_after(120):
            health, token = await http_as_documented()
            status = json.loads(health)
            # Listing loaded BPF objects needs CAP_SYS_ADMIN, which the documented
            # container does not grant: that source alone may be failed.
            failed = {s["source"] for s in status["sources"] if s["state"] == "failed"}
            assert status["status"] in ("ready", "loading") or failed == {"loaded_bpf"}

            authorized = httpx2.AsyncClient(headers={"authorization": f"Bearer {token}"})
            transport = streamable_http_client(f"{HTTP_URL}/mcp", http_client=authorized)
            async with authorized, Client(transport, mode="legacy") as client:
                listed = await client.list_tools()
            assert [t.name for t in listed.tools] == [t.name for t in TOOLS]

            async with httpx2.AsyncClient() as anonymous:
                refused = await anonymous.get(f"{HTTP_URL}/healthz")
            assert refused.status_code == 421
            assert "127.0.0.1:18404" in refused.json()["detail"]
            assert "--allow-host" in refused.json()["detail"]
    finally:
        await trio.run_process(
            ["podman", "stop", "-t", "2", HTTP_CONTAINER],
            env={**os.environ, "CONTAINERS_CONF": str(REPO / "scripts" / "containers.conf")},
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
