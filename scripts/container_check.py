"""Drive a built bpf-mcp image with the mcp SDK client: over stdio (tools/list and a call
of every tool) and over HTTP, then run a privilege matrix and print what each missing
privilege costs. Called by scripts/container_test.sh (`just container-test`)."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from typing import Any

import trio
from mcp import Client
from mcp.client.stdio import StdioServerParameters

PODMAN = ["podman", "--runtime", "runc"]
TRACEFS = "/sys/kernel/tracing"
MOUNTS = ["-v", "/sys/kernel/btf:/sys/kernel/btf:ro", "-v", f"{TRACEFS}:{TRACEFS}:ro"]

# Arguments for tools whose parameters are required; other tools are called with {}.
SAMPLES: dict[str, dict[str, Any]] = {
    "describe_btf_type": {"name": "task_struct"},
    "generate_c_header": {"names": ["list_head"]},
    "get_tracepoint": {"name": "sched:sched_switch"},
    "get_kernel_function": {"name": "vfs_read"},
    "get_loaded_bpf": {"kind": "programs", "id": 1},
}
# Tools that need CAP_SYS_ADMIN, which the least-privilege run does not grant: each must
# answer an error that names it.
NEEDS_SYS_ADMIN = {"list_loaded_bpf", "get_loaded_bpf"}


def run_args(image: str, *extra: str) -> list[str]:
    return [*PODMAN[1:], "run", "--rm", "-i", *extra, image]


async def stdio_session(
    image: str, extra: list[str], calls: list[tuple[str, dict[str, Any]]]
) -> list[Any]:
    params = StdioServerParameters(
        command=PODMAN[0], args=run_args(image, *extra), env=dict(os.environ)
    )
    out: list[Any] = []
    with trio.fail_after(180):
        async with Client(params, mode="legacy") as client:
            tools = (await client.list_tools()).tools
            out.append([t.name for t in tools])
            for name, arguments in calls or [(t.name, SAMPLES.get(t.name, {})) for t in tools]:
                result = await client.call_tool(name, arguments)
                text = result.content[0].text if result.content else ""  # type: ignore[union-attr]
                out.append((name, result.is_error, result.structured_content, text))
    return out


def check_stdio(image: str) -> None:
    results = trio.run(stdio_session, image, ["--cap-add", "SYSLOG", *MOUNTS], [])
    names = results[0]
    failed = [
        (n, t)
        for n, err, _, t in results[1:]
        if err and not (n in NEEDS_SYS_ADMIN and "CAP_SYS_ADMIN" in t)
    ]
    print(f"stdio: tools/list gave {len(names)} tools; called each: {len(failed)} errors")
    for name, text in failed:
        print(f"  {name}: {text}")
    if failed:
        raise SystemExit(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def check_http(image: str) -> None:
    port = free_port()
    container = subprocess.run(
        [
            *PODMAN,
            "run",
            "-d",
            "--rm",
            "--network",
            "host",
            *MOUNTS,
            image,
            "--http",
            "--bind",
            f"127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    try:

        async def main() -> tuple[int, bool]:
            url = f"http://127.0.0.1:{port}/mcp"
            with trio.fail_after(60):
                while True:
                    try:
                        async with Client(url, mode="legacy") as client:
                            tools = (await client.list_tools()).tools
                            result = await client.call_tool(
                                "list_bpf_map_types", {"pattern": "ringbuf"}
                            )
                            return len(tools), bool(result.is_error)
                    except Exception:
                        await trio.sleep(0.2)

        count, is_error = trio.run(main)
        print(f"http: tools/list gave {count} tools; list_bpf_map_types error={is_error}")
        if is_error:
            raise SystemExit(1)
    finally:
        subprocess.run([*PODMAN, "stop", "-t", "2", container], capture_output=True, check=False)


MATRIX: list[tuple[str, list[str]]] = [
    ("no mounts, default capabilities", []),
    ("tracefs + BTF mounted read-only, default capabilities", MOUNTS),
    (
        "mounts + --cap-add SYSLOG (least privilege for everything)",
        ["--cap-add", "SYSLOG", *MOUNTS],
    ),
    ("mounts + --cap-drop ALL", ["--cap-drop", "ALL", *MOUNTS]),
    ("--privileged (fallback)", ["--privileged", *MOUNTS]),
]


def describe_state(status: dict[str, Any]) -> str:
    """'ready', or the state and cause of a source that is not."""
    if status["state"] == "ready":
        return "ready"
    error = status["last_error"] or {}
    return f"{status['state']}: {error.get('cause', '')}"


def privilege_matrix(image: str) -> None:
    print("\n| run options | tracefs | kallsyms addresses | BTF |")
    print("| --- | --- | --- | --- |")
    for label, extra in MATRIX:
        calls: list[tuple[str, dict[str, Any]]] = [
            # Each call waits for its source's first load, so the status after them
            # shows every source settled.
            ("list_tracepoints", {"limit": 1}),
            ("get_btf_types", {"limit": 1}),
            ("list_kernel_functions", {"pattern": "vfs_read", "limit": 1}),
            ("get_server_status", {}),
        ]
        results = trio.run(stdio_session, image, extra, calls)
        status = {s["source"]: s for s in results[4][2]["sources"]}
        functions = results[3][2] or {}

        if results[3][1]:
            addresses = "unreadable"
        else:
            addresses = "hidden (null)" if functions.get("addresses_hidden") else "visible"
        tracefs, btf = describe_state(status["tracefs"]), describe_state(status["btf"])
        print(f"| {label} | {tracefs} | {addresses} | {btf} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--image", required=True)
    parser.add_argument("--skip-matrix", action="store_true")
    args = parser.parse_args()
    start = time.monotonic()
    check_stdio(args.image)
    check_http(args.image)
    if not args.skip_matrix:
        privilege_matrix(args.image)
    print(f"\ncontainer checks passed in {time.monotonic() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
