"""Fuzz the real bpf-mcp server with `mcp-fuzzer` (PyPI) over stdio and Streamable HTTP,
with a fixed seed and bounded time, and count what matters: crashes, hangs, JSON-RPC -32603
internal errors and leaked tracebacks (mcp-fuzzer's noisy "accepted_malformed" label is
left out of the verdict). Exits 1 when any of those is not zero.

    python scripts/fuzz_mcp.py [--transport stdio|http|both] [--runs 20] [--seed 1]

mcp-fuzzer must be installed (`just fuzz-mcp` installs it into the venv first). Over stdio
the server's output is also copied to a log (through `fuzz_mcp.py tee`) and scanned for
-32603 and tracebacks; the server's stderr is scanned for logged tracebacks (server-side
only, not leaked, but each one is a bug).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any, BinaryIO

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "fixtures" / "linux-6.18"
SERVER = [sys.executable, "-m", "bpf_mcp", "--sysroot", str(FIXTURE)]
VERDICT = ("crash", "hang", "internal_error", "error_leakage")
"""Finding categories that fail the run; every other category is only reported."""
IGNORED = ("accepted_malformed",)
TRACEBACK = re.compile(rb"Traceback \(most recent call last\)")
INTERNAL = re.compile(rb'"code":\s*-32603')
OVERSIZED = re.compile(rb"Received oversized message")
"""mcp-fuzzer's stdio client reads lines with asyncio's default 64 KiB limit, as many
clients do; the server holds every message under it, so each such miss is a problem."""


def tee(argv: list[str], stdout_log: Path, stderr_log: Path) -> int:
    """Run `argv` with stdin passed through, stdout copied to `stdout_log` as well, and
    stderr sent to `stderr_log`; return its exit code (an mcp-fuzzer stdio endpoint)."""
    with stdout_log.open("ab") as out_log, stderr_log.open("ab") as err_log:
        child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err_log)
        assert child.stdout is not None
        copy = threading.Thread(target=_copy, args=(child.stdout, out_log), daemon=True)
        copy.start()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda n, _f: child.send_signal(n))
        code = child.wait()
        copy.join(timeout=5)
    return code


def _copy(source: BinaryIO, log: BinaryIO) -> None:
    out = sys.stdout.buffer
    while data := source.read1(65536):  # type: ignore[attr-defined]
        log.write(data)
        log.flush()
        try:
            out.write(data)
            out.flush()
        except BrokenPipeError:
            return


def fuzzer_command(args: argparse.Namespace, protocol: str, endpoint: str, out: Path) -> list[str]:
    return [
        args.mcp_fuzzer,
        "--mode",
        "all",
        "--phase",
        "both",
        "--protocol",
        protocol,
        "--endpoint",
        endpoint,
        "--runs",
        str(args.runs),
        "--runs-per-type",
        str(args.runs_per_type),
        "--seed",
        str(args.seed),
        "--timeout",
        str(args.request_timeout),
        "--tool-timeout",
        str(args.request_timeout),
        "--no-corpus",
        "--fs-root",
        str(out / "fs-root"),
        "--output-dir",
        str(out),
        "--log-level",
        "ERROR",
    ]


def run_fuzzer(command: list[str], out: Path, limit: float) -> tuple[int | None, float]:
    started = time.monotonic()
    with (out / "fuzzer.log").open("wb") as log:
        try:
            done = subprocess.run(
                command, stdout=log, stderr=subprocess.STDOUT, timeout=limit, check=False
            )
            code: int | None = done.returncode
        except subprocess.TimeoutExpired:
            code = None
    return code, time.monotonic() - started


def findings(out: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    for path in out.rglob("findings.json"):
        data = json.loads(path.read_text())
        items = data.get("findings", []) if isinstance(data, dict) else data
        counts.update(str(item.get("category", "?")) for item in items)
    return counts


def runs(out: Path) -> Counter[str]:
    """How many tool calls and protocol messages were fuzzed, over how many tools and
    protocol message types (from mcp-fuzzer's run summaries)."""
    counts: Counter[str] = Counter()
    for path in out.rglob("run_summary.json"):
        data: dict[str, Any] = json.loads(path.read_text())
        for group in ("tools", "protocols"):
            counts[f"{group}_runs"] += int(data.get(group, {}).get("total_runs", 0))
            counts[group] += int(data.get(group, {}).get("total", 0))
    return counts


def fuzz_stdio(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    stdout_log, stderr_log = out / "server-stdout.log", out / "server-stderr.log"
    wrapped = [
        sys.executable,
        str(Path(__file__).resolve()),
        "tee",
        "--stdout-log",
        str(stdout_log),
        "--stderr-log",
        str(stderr_log),
        "--",
        *SERVER,
    ]
    code, seconds = run_fuzzer(
        fuzzer_command(args, "stdio", shlex.join(wrapped), out), out, args.time_limit
    )
    wire = stdout_log.read_bytes() if stdout_log.exists() else b""
    log = stderr_log.read_bytes() if stderr_log.exists() else b""
    return {
        "fuzzer_exit": code,
        "seconds": round(seconds, 1),
        "runs": runs(out),
        "findings": findings(out),
        "wire_internal_errors": len(INTERNAL.findall(wire)),
        "wire_tracebacks": len(TRACEBACK.findall(wire)),
        "server_log_tracebacks": len(TRACEBACK.findall(log)),
        "server_alive_after": None,
        "client_read_cap_misses": len(OVERSIZED.findall((out / "fuzzer.log").read_bytes())),
    }


def fuzz_http(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    stderr_log = out / "server-stderr.log"
    with stderr_log.open("wb") as log:
        server = subprocess.Popen(
            [*SERVER, "--http", "--bind", "127.0.0.1:0", "--log-level", "info"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        url = _wait_for_url(stderr_log, server)
        code, seconds = run_fuzzer(fuzzer_command(args, "http", url, out), out, args.time_limit)
        alive = server.poll() is None and _healthy(url.rsplit("/", 1)[0] + "/healthz")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    log_bytes = stderr_log.read_bytes()
    return {
        "fuzzer_exit": code,
        "seconds": round(seconds, 1),
        "runs": runs(out),
        "findings": findings(out),
        "wire_internal_errors": None,
        "wire_tracebacks": None,
        "server_log_tracebacks": len(TRACEBACK.findall(log_bytes)),
        "server_alive_after": alive,
        "client_read_cap_misses": len(OVERSIZED.findall((out / "fuzzer.log").read_bytes())),
    }


def _wait_for_url(log: Path, server: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(rb"http://127\.0\.0\.1:\d+/mcp", log.read_bytes())
        if found:
            return found.group().decode()
        if server.poll() is not None:
            break
        time.sleep(0.1)
    raise SystemExit(f"the HTTP server did not report its URL:\n{log.read_text()}")


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status) == 200
    except OSError:
        return False


def verdict(result: dict[str, Any]) -> int:
    found: Counter[str] = result["findings"]
    bad = sum(found[c] for c in VERDICT)
    bad += int(result["wire_internal_errors"] or 0)
    bad += int(result["wire_tracebacks"] or 0)
    bad += int(result["server_log_tracebacks"])
    bad += result["fuzzer_exit"] is None  # the whole run hung past the time limit
    bad += result["server_alive_after"] is False
    bad += int(result["client_read_cap_misses"] or 0)  # a message over 64 KiB
    return bad


def report(transport: str, result: dict[str, Any]) -> None:
    found: Counter[str] = result["findings"]
    others = {k: v for k, v in sorted(found.items()) if k not in VERDICT and k not in IGNORED}
    done: Counter[str] = result["runs"]
    print(
        f"== {transport}: {done['tools_runs']} tool calls over {done['tools']} tools and"
        f" {done['protocols_runs']} protocol messages of {done['protocols']} types"
        f" in {result['seconds']} s"
    )
    for category in VERDICT:
        print(f"   {category:<24} {found[category]}")
    for key in ("wire_internal_errors", "wire_tracebacks", "server_log_tracebacks"):
        if result[key] is not None:
            print(f"   {key:<24} {result[key]}")
    if result["server_alive_after"] is not None:
        print(f"   {'server alive after':<24} {result['server_alive_after']}")
    print(f"   {'fuzzer exit':<24} {result['fuzzer_exit']}  (None: stopped at the time limit)")
    print(f"   {'ignored':<24} " + ", ".join(f"{c}={found[c]}" for c in IGNORED))
    print(
        f"   {'client read-cap misses':<24} {result['client_read_cap_misses']}"
        "  (messages over mcp-fuzzer's 64 KiB stdio line limit: each is a problem)"
    )
    if others:
        print(f"   {'other findings':<24} " + ", ".join(f"{k}={v}" for k, v in others.items()))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["tee"]:
        parser = argparse.ArgumentParser(prog="fuzz_mcp.py tee")
        parser.add_argument("--stdout-log", type=Path, required=True)
        parser.add_argument("--stderr-log", type=Path, required=True)
        parser.add_argument("command", nargs=argparse.REMAINDER)
        tee_args = parser.parse_args(argv[1:])
        command = tee_args.command[1:] if tee_args.command[:1] == ["--"] else tee_args.command
        return tee(command, tee_args.stdout_log, tee_args.stderr_log)

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transport", choices=("stdio", "http", "both"), default="both")
    parser.add_argument("--runs", type=int, default=20, help="runs per tool and phase")
    parser.add_argument("--runs-per-type", type=int, default=10, help="runs per protocol type")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--request-timeout", type=float, default=30.0)
    parser.add_argument("--time-limit", type=float, default=900.0, help="seconds per transport")
    parser.add_argument("--out", type=Path, default=REPO / ".cache" / "fuzz-mcp")
    beside = Path(sys.executable).parent / "mcp-fuzzer"
    parser.add_argument(
        "--mcp-fuzzer",
        default=str(beside) if beside.exists() else shutil.which("mcp-fuzzer") or "mcp-fuzzer",
    )
    args = parser.parse_args(argv)
    if shutil.which(args.mcp_fuzzer) is None and not os.path.exists(args.mcp_fuzzer):
        print("mcp-fuzzer is not installed: pip install mcp-fuzzer", file=sys.stderr)
        return 2

    failures = 0
    transports = ("stdio", "http") if args.transport == "both" else (args.transport,)
    for transport in transports:
        out = args.out / transport
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        result = fuzz_stdio(args, out) if transport == "stdio" else fuzz_http(args, out)
        report(transport, result)
        failures += verdict(result)
    print(f"== verdict: {'FAIL' if failures else 'ok'} ({failures} problem(s)); logs in {args.out}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
