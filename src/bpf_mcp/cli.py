"""The `bpf-mcp` command: options -> Config -> trio.run. The only place that configures
logging, handles signals and chooses exit codes."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import trio

from .config import Config

LOG_LEVELS = ("debug", "info", "warning", "error")


def _env(name: str, default: str) -> str:
    return os.environ.get(f"BPF_MCP_{name}", default)


def build_parser() -> argparse.ArgumentParser:
    from .transports.mcp_app import package_version

    parser = argparse.ArgumentParser(
        prog="bpf-mcp",
        description=(
            "MCP server that answers what the running Linux kernel offers for BPF and tracing."
            " Serves MCP over stdio. Every option can also be set through the environment"
            " variable shown; a command-line option wins over the environment."
        ),
    )
    parser.add_argument("--version", action="version", version=f"bpf-mcp {package_version()}")
    parser.add_argument(
        "--sysroot",
        type=Path,
        default=Path(_env("SYSROOT", "/")),
        help="read every kernel file below this directory (env BPF_MCP_SYSROOT; default /)",
    )
    parser.add_argument(
        "--refresh-interval",
        type=float,
        default=float(_env("REFRESH_INTERVAL", "5")),
        help="seconds between checks for changed kernel data; the bound on an answer's age"
        " (env BPF_MCP_REFRESH_INTERVAL; default 5)",
    )
    parser.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default=_env("LOG_LEVEL", "warning"),
        help="log verbosity; logs go to stderr (env BPF_MCP_LOG_LEVEL; default warning)",
    )
    return parser


def _configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("bpf-mcp %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


async def _main(config: Config) -> None:
    from .api import open_bpf_mcp
    from .transports.stdio import serve_stdio

    async with trio.open_nursery() as nursery:

        async def watch_signals() -> None:
            with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async for signum in signals:
                    logging.getLogger("bpf_mcp").info("signal %d: stopping", signum)
                    nursery.cancel_scope.cancel()
                    return

        nursery.start_soon(watch_signals)
        async with open_bpf_mcp(config) as handle:
            await serve_stdio(handle)
        nursery.cancel_scope.cancel()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the server; returns the process exit code."""
    args = build_parser().parse_args(argv)
    _configure_logging(args.log_level)
    if args.refresh_interval <= 0:
        print("bpf-mcp: --refresh-interval must be positive", file=sys.stderr)
        return 2
    if not args.sysroot.is_dir():
        print(f"bpf-mcp: --sysroot {args.sysroot} is not a directory", file=sys.stderr)
        return 2
    config = Config(sysroot=args.sysroot.resolve(), refresh_interval=args.refresh_interval)
    try:
        trio.run(_main, config)
    except* KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
