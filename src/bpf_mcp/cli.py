"""The `bpf-mcp` command: options -> Config -> trio.run. The only place that configures
logging, handles signals and chooses exit codes."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import stat
import sys
from collections.abc import Sequence
from contextlib import suppress
from functools import partial
from pathlib import Path
from typing import Any, NoReturn

import attrs
import trio

from .config import MAX_ANSWER_BYTES, MIN_ANSWER_BYTES, Config, KernelSpec

LOG_LEVELS = ("debug", "info", "warning", "error")
DEFAULT_BIND = "127.0.0.1:1337"
_TRUE = ("1", "true", "yes", "on")


def _env(name: str, default: str) -> str:
    return os.environ.get(f"BPF_MCP_{name}", default)


def _env_flag(name: str) -> bool:
    return _env(name, "").strip().lower() in _TRUE


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in _env(name, "").split(",") if item.strip()]


def add_kernel_options(parser: argparse.ArgumentParser) -> None:
    """--kernel and --max-loaded-kernels, shared by the server and `bpf-mcp call`."""
    parser.add_argument(
        "--kernel",
        action="append",
        default=None,
        metavar="NAME=PATH",
        help="also serve a captured kernel under NAME: PATH is a sysroot directory, a"
        " bpf-mcp snapshot or a bare BTF file (raw .BTF or an ELF vmlinux); repeatable"
        " (env BPF_MCP_KERNELS, comma-separated)",
    )
    parser.add_argument(
        "--max-loaded-kernels",
        type=int,
        default=_env("MAX_LOADED_KERNELS", "3"),
        metavar="N",
        help="registered kernels held in memory at once, least recently used out"
        " (env BPF_MCP_MAX_LOADED_KERNELS; default 3)",
    )


def kernel_config(
    args: argparse.Namespace,
) -> tuple[tuple[KernelSpec, ...], int, tuple[tuple[str, str], ...]]:
    """The Config fields --kernel and --max-loaded-kernels give: the kernels to serve, how
    many to hold, and those refused with why (each logged; the others are served).
    UsageError for a bad --max-loaded-kernels."""
    from .kernels import KernelOptionError, parse_kernel_option

    if args.max_loaded_kernels < 1:
        raise UsageError("--max-loaded-kernels must be 1 or more")
    texts = args.kernel if args.kernel is not None else _env_list("KERNELS")
    specs: dict[str, KernelSpec] = {}
    refused: list[tuple[str, str]] = []
    for text in texts:
        try:
            spec = parse_kernel_option(text, specs)
        except KernelOptionError as exc:
            name = text.partition("=")[0][:64] or text[:64]
            print(f"bpf-mcp: --kernel {name} refused: {exc}", file=sys.stderr)
            refused.append((name, str(exc)))
            continue
        specs[spec.name] = spec
    return tuple(specs.values()), args.max_loaded_kernels, tuple(refused)


class UsageError(Exception):
    """A bad option value; the message is shown as is, and the exit code is 2."""


class CannotServe(Exception):
    """The HTTP address could not be bound; the message is shown as is, exit code 1."""


def parse_bind(text: str) -> tuple[str, int]:
    """`HOST:PORT`, `[IPV6]:PORT` or `HOST` (port 1337) as (host, port); UsageError if bad."""
    text = text.strip()
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise UsageError(f"--bind {text!r}: expected [IPV6]:PORT")
        port_text = rest[1:] if rest else "1337"
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    elif ":" in text:
        raise UsageError(f"--bind {text!r}: put an IPv6 address in brackets, as [::1]:1337")
    else:
        host, port_text = text, "1337"
    if not host:
        raise UsageError(f"--bind {text!r}: the host is missing")
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise UsageError(f"--bind {text!r}: the port must be a number from 0 to 65535")
    return host, int(port_text)


@attrs.frozen
class HttpOptions:
    """What the HTTP transport was asked for on the command line and in the environment.

    `token` is the bearer token itself; it is never logged or shown.
    """

    host: str
    port: int
    allowed_origins: tuple[str, ...]
    allowed_hosts: tuple[str, ...]
    token: str | None = attrs.field(repr=False)
    insecure_no_auth: bool
    stateless: bool
    json_response: bool
    max_connections: int
    max_sessions: int
    session_idle_timeout: float

    def serve_kwargs(self) -> dict[str, Any]:
        return attrs.asdict(self, recurse=False)


TOKEN_FILE_BYTES = 4096
"""The largest token file read: a token is one line; anything larger is not a token file."""


def read_token_file(path: Path) -> str:
    """The token in `path` (surrounding whitespace removed); UsageError if unreadable,
    empty, not a regular file (a FIFO or device is refused at once, never waited on or
    read without end) or larger than TOKEN_FILE_BYTES.

    The message names the file, never its content.
    """
    try:
        # O_NONBLOCK: opening a FIFO does not wait for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise UsageError(
                    f"--token-file {path}: it is not a regular file"
                    f" (mode {stat.filemode(st.st_mode)}); put the token in a file of its own"
                )
            data = os.read(fd, TOKEN_FILE_BYTES + 1)
        finally:
            os.close(fd)
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--token-file {path}: cannot read it ({type(exc).__name__})") from None
    if len(data) > TOKEN_FILE_BYTES:
        raise UsageError(
            f"--token-file {path}: it is larger than {TOKEN_FILE_BYTES} bytes, too large to"
            " hold one token"
        )
    token = text.strip()
    if not token or len(token.split()) != 1:
        raise UsageError(f"--token-file {path}: expected one token on one line, found none or more")
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        logging.getLogger("bpf_mcp").warning(
            "token file %s is readable by other users; chmod 600 it", path
        )
    return token


def build_parser() -> argparse.ArgumentParser:
    from .transports.policy import (
        DEFAULT_MAX_CONNECTIONS,
        DEFAULT_MAX_SESSIONS,
        DEFAULT_SESSION_IDLE_TIMEOUT,
    )
    from .transports.protocol import package_version

    parser = argparse.ArgumentParser(
        prog="bpf-mcp",
        description=(
            "MCP server that answers what the running Linux kernel offers for BPF and tracing."
            " Serves MCP over stdio, Streamable HTTP (--http), or both. Every option can also"
            " be set through the environment variable shown (flags with 1/true/yes); a"
            " command-line option wins over the environment."
        ),
        epilog=(
            "To run one tool without an MCP client: bpf-mcp call TOOL [key=value ...] [--json]"
            " (see bpf-mcp call --help). To capture this kernel into one archive: bpf-mcp"
            " snapshot --out FILE (see bpf-mcp snapshot --help)."
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
        default=_env("REFRESH_INTERVAL", "5"),  # a string default goes through `type` too
        help="seconds between checks for changed kernel data; the bound on an answer's age"
        " (env BPF_MCP_REFRESH_INTERVAL; default 5)",
    )
    parser.add_argument(
        "--read-timeout",
        type=float,
        default=_env("READ_TIMEOUT", "60"),
        metavar="S",
        help="seconds one load of one source may take before it is abandoned and the source"
        " marked failed (a hung mount); env BPF_MCP_READ_TIMEOUT; default 60",
    )
    add_kernel_options(parser)
    parser.add_argument(
        "--max-answer-bytes",
        type=int,
        default=_env("MAX_ANSWER_BYTES", str(64 * 1024)),
        metavar="N",
        help=f"largest JSON-RPC message of one answer, in bytes ({MIN_ANSWER_BYTES}-"
        f"{MAX_ANSWER_BYTES}); longer answers are cut with a note saying how to continue"
        " (env BPF_MCP_MAX_ANSWER_BYTES; default 65536)",
    )
    parser.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default=_env("LOG_LEVEL", "warning"),
        help="log verbosity; logs go to stderr (env BPF_MCP_LOG_LEVEL; default warning)",
    )
    parser.add_argument(
        "--tools",
        default=_env("TOOLS", ""),
        metavar="NAME,NAME",
        help="offer only these tools (comma-separated; env BPF_MCP_TOOLS; default all)",
    )
    parser.add_argument(
        "--answer-cache",
        type=int,
        default=_env("ANSWER_CACHE", "256"),
        metavar="N",
        help="answers remembered for repeated questions, emptied on any data change; 0 turns"
        " it off (env BPF_MCP_ANSWER_CACHE; default 256)",
    )
    transports = parser.add_argument_group(
        "transports",
        "Without --http, MCP is served over stdio. With both, stdio ending stops both.",
    )
    transports.add_argument(
        "--stdio",
        action="store_true",
        default=_env_flag("STDIO"),
        help="serve MCP over stdin/stdout (the default without --http; env BPF_MCP_STDIO)",
    )
    transports.add_argument(
        "--http",
        action="store_true",
        default=_env_flag("HTTP"),
        help="serve MCP over Streamable HTTP at http://BIND/mcp (env BPF_MCP_HTTP)",
    )
    http = parser.add_argument_group("HTTP")
    http.add_argument(
        "--bind",
        metavar="HOST:PORT",
        default=_env("BIND", DEFAULT_BIND),
        help="address to listen on; port 0 picks a free one and the URL is printed to stderr"
        f" (env BPF_MCP_BIND; default {DEFAULT_BIND})",
    )
    http.add_argument(
        "--allow-origin",
        metavar="ORIGIN",
        action="append",
        default=None,
        help="also accept requests with this Origin header, e.g. http://localhost:6274;"
        " repeatable (env BPF_MCP_ALLOW_ORIGIN, comma-separated). Others get 403",
    )
    http.add_argument(
        "--allow-host",
        metavar="HOST[:PORT]",
        action="append",
        default=None,
        help="also accept this Host header (the name a proxy or client uses; NAME:* for any"
        " port); repeatable (env BPF_MCP_ALLOW_HOST, comma-separated). Others get 421",
    )
    http.add_argument(
        "--token-file",
        type=Path,
        default=None,
        help="require 'Authorization: Bearer TOKEN' with the token in this file"
        " (env BPF_MCP_TOKEN_FILE, or the token itself in BPF_MCP_TOKEN);"
        " required to bind a non-loopback address",
    )
    http.add_argument(
        "--insecure-no-auth",
        action="store_true",
        default=_env_flag("INSECURE_NO_AUTH"),
        help="serve a non-loopback address without a token: anyone who reaches it can use it"
        " (env BPF_MCP_INSECURE_NO_AUTH)",
    )
    http.add_argument(
        "--object-dir",
        metavar="DIR",
        type=Path,
        action="append",
        default=None,
        help="let HTTP callers name BPF object files below DIR for check_bpf_object (symlinks"
        " resolved; nothing outside it); repeatable (env BPF_MCP_OBJECT_DIR, comma-separated)."
        " Over stdio any readable file may be named",
    )
    http.add_argument(
        "--stateless",
        action="store_true",
        default=_env_flag("STATELESS"),
        help="no sessions: every request stands alone (env BPF_MCP_STATELESS)",
    )
    http.add_argument(
        "--json-response",
        action="store_true",
        default=_env_flag("JSON_RESPONSE"),
        help="answer POSTs with JSON bodies instead of SSE streams (env BPF_MCP_JSON_RESPONSE)",
    )
    limits: tuple[tuple[str, type, object, str], ...] = (
        (
            "--max-connections",
            int,
            DEFAULT_MAX_CONNECTIONS,
            "connections open at once; more wait until one closes (lowered to keep"
            " descriptors for reading the kernel's files)",
        ),
        (
            "--max-sessions",
            int,
            DEFAULT_MAX_SESSIONS,
            "MCP sessions open at once; one more closes the least recently used idle session",
        ),
        (
            "--session-idle-timeout",
            float,
            f"{DEFAULT_SESSION_IDLE_TIMEOUT:g}",
            "seconds a session lives without a request",
        ),
    )
    for flag, kind, default, meaning in limits:
        env = flag.removeprefix("--").replace("-", "_").upper()
        http.add_argument(
            flag,
            type=kind,
            default=_env(env, str(default)),  # a string default goes through `type` too
            metavar="S" if kind is float else "N",
            help=f"{meaning} (env BPF_MCP_{env}; default {default})",
        )
    return parser


def http_options(args: argparse.Namespace) -> HttpOptions:
    """The HTTP options, checked; UsageError for a bad value or a non-loopback bind without
    a token (unless --insecure-no-auth)."""
    from .transports.policy import check_allowed_hosts, is_loopback

    host, port = parse_bind(args.bind)
    allowed_hosts = tuple(args.allow_host or _env_list("ALLOW_HOST"))
    try:
        check_allowed_hosts(allowed_hosts)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    for option, value in (
        ("--max-connections", args.max_connections),
        ("--max-sessions", args.max_sessions),
        ("--session-idle-timeout", args.session_idle_timeout),
    ):
        if not value > 0 or value == float("inf"):
            raise UsageError(f"{option} must be a positive number, not {value}")
    token = _token(args.token_file)
    if token is None and not is_loopback(host):
        if not args.insecure_no_auth:
            raise UsageError(
                f"--bind {args.bind}: a non-loopback address needs a bearer token"
                " (--token-file PATH or BPF_MCP_TOKEN); --insecure-no-auth serves it to anyone"
            )
        print(
            f"bpf-mcp: WARNING: serving {args.bind} WITHOUT AUTHENTICATION"
            " (--insecure-no-auth): anyone who can reach this address can use the server",
            file=sys.stderr,
        )
    return HttpOptions(
        host=host,
        port=port,
        allowed_origins=tuple(args.allow_origin or _env_list("ALLOW_ORIGIN")),
        allowed_hosts=allowed_hosts,
        token=token,
        insecure_no_auth=args.insecure_no_auth,
        stateless=args.stateless,
        json_response=args.json_response,
        max_connections=args.max_connections,
        max_sessions=args.max_sessions,
        session_idle_timeout=args.session_idle_timeout,
    )


def _token(token_file: Path | None) -> str | None:
    """--token-file, else BPF_MCP_TOKEN, else BPF_MCP_TOKEN_FILE, else None."""
    if token_file is not None:
        return read_token_file(token_file)
    from_env = _env("TOKEN", "").strip()
    env_file = _env("TOKEN_FILE", "")
    if from_env and env_file:
        raise UsageError("set BPF_MCP_TOKEN or BPF_MCP_TOKEN_FILE, not both")
    if from_env:
        if len(from_env.split()) != 1:
            raise UsageError("BPF_MCP_TOKEN must be one token without spaces")
        return from_env
    return read_token_file(Path(env_file)) if env_file else None


def _configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("bpf-mcp %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


async def _main(
    config: Config, stdio: bool, http: HttpOptions | None, tools: list[str] | None
) -> None:
    from .api import open_bpf_mcp

    async with trio.open_nursery() as nursery:

        async def watch_signals() -> None:
            with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async for signum in signals:
                    logging.getLogger("bpf_mcp").info("signal %d: stopping", signum)
                    nursery.cancel_scope.cancel()
                    return

        nursery.start_soon(watch_signals)
        async with open_bpf_mcp(config) as handle, trio.open_nursery() as serving:
            if http is not None:
                from .transports.http import serve_http

                try:
                    address = await serving.start(
                        partial(serve_http, handle, tools=tools, **http.serve_kwargs())
                    )
                except* OSError as group:
                    reason = group.exceptions[0]
                    raise CannotServe(
                        f"cannot listen on {http.host}:{http.port}: {reason}"
                    ) from None
                print(f"bpf-mcp: serving MCP on {address.url()}", file=sys.stderr, flush=True)
            if stdio:
                from .transports.stdio import serve_stdio

                await serve_stdio(handle, tools=tools)
                serving.cancel_scope.cancel()
        nursery.cancel_scope.cancel()


def build_call_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bpf-mcp call",
        description="Run one bpf-mcp tool in this process and print its answer: a table for"
        " people, or JSON with --json. Arguments are key=value words; a value that parses"
        ' as JSON (42, true, ["a"]) is taken as such, else as a string (key:=text forces'
        " a string). Exit code 1 when the tool answers an error.",
    )
    parser.add_argument("tool", help="the tool's name, e.g. list_tracepoints")
    parser.add_argument("arguments", nargs="*", metavar="key=value")
    parser.add_argument("--json", action="store_true", help="print the answer as JSON")
    parser.add_argument(
        "--sysroot",
        type=Path,
        default=Path(_env("SYSROOT", "/")),
        help="read every kernel file below this directory (env BPF_MCP_SYSROOT; default /)",
    )
    add_kernel_options(parser)
    parser.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default=_env("LOG_LEVEL", "error"),
        help="log verbosity on stderr (env BPF_MCP_LOG_LEVEL; default error)",
    )
    return parser


def call_main(argv: Sequence[str]) -> int:
    """`bpf-mcp call`: one tool, in process."""
    from .calltool import UsageError as CallUsageError
    from .calltool import call, parse_assignments

    args = build_call_parser().parse_args(argv)
    _configure_logging(args.log_level)
    try:
        arguments = parse_assignments(args.arguments)
    except CallUsageError as exc:
        print(f"bpf-mcp call: {exc}", file=sys.stderr)
        return 2
    if not args.sysroot.is_dir():
        print(f"bpf-mcp: --sysroot {args.sysroot} is not a directory", file=sys.stderr)
        return 2
    try:
        kernels, max_loaded, refused = kernel_config(args)
    except UsageError as exc:
        print(f"bpf-mcp call: {exc}", file=sys.stderr)
        return 2
    config = Config(
        sysroot=args.sysroot.resolve(),
        kernels=kernels,
        max_loaded_kernels=max_loaded,
        refused_kernels=refused,
    )
    code = 130
    try:
        code = trio.run(partial(call, config, args.tool, arguments, as_json=args.json))
    except* KeyboardInterrupt:
        pass
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the server (or `bpf-mcp call`); returns the process exit code.

    Without `argv` (run as the program, reading sys.argv), the server ends the process
    itself once it has stopped, rather than returning.
    """
    as_program = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["call"]:
        return call_main(argv[1:])
    if argv[:1] == ["snapshot"]:
        from .snapshotcmd import main as snapshot_main

        return snapshot_main(argv[1:])
    args = build_parser().parse_args(argv)
    _configure_logging(args.log_level)
    if args.refresh_interval <= 0:
        print("bpf-mcp: --refresh-interval must be positive", file=sys.stderr)
        return 2
    if args.read_timeout <= 0:
        print("bpf-mcp: --read-timeout must be positive", file=sys.stderr)
        return 2
    if not MIN_ANSWER_BYTES <= args.max_answer_bytes <= MAX_ANSWER_BYTES:
        print(
            f"bpf-mcp: --max-answer-bytes must be {MIN_ANSWER_BYTES}-{MAX_ANSWER_BYTES}",
            file=sys.stderr,
        )
        return 2
    if not args.sysroot.is_dir():
        print(f"bpf-mcp: --sysroot {args.sysroot} is not a directory", file=sys.stderr)
        return 2
    try:
        http = http_options(args) if args.http else None
    except UsageError as exc:
        print(f"bpf-mcp: {exc}", file=sys.stderr)
        return 2
    tools = [t.strip() for t in args.tools.split(",") if t.strip()] or None
    if tools is not None:
        from .transports.protocol import select_tools

        try:
            select_tools(tools)
        except ValueError as exc:
            print(f"bpf-mcp: --tools: {exc}", file=sys.stderr)
            return 2
    if args.answer_cache < 0:
        print("bpf-mcp: --answer-cache must be 0 or more", file=sys.stderr)
        return 2
    try:
        kernels, max_loaded, refused = kernel_config(args)
    except UsageError as exc:
        print(f"bpf-mcp: {exc}", file=sys.stderr)
        return 2
    args.object_dir = args.object_dir or [Path(d) for d in _env_list("OBJECT_DIR")]
    for directory in args.object_dir:
        if not directory.is_dir():
            print(f"bpf-mcp: --object-dir {directory} is not a directory", file=sys.stderr)
            return 2
    config = Config(
        sysroot=args.sysroot.resolve(),
        refresh_interval=args.refresh_interval,
        read_timeout=args.read_timeout,
        answer_cache=args.answer_cache,
        max_answer_bytes=args.max_answer_bytes,
        kernels=kernels,
        max_loaded_kernels=max_loaded,
        refused_kernels=refused,
        object_dirs=tuple(d.resolve() for d in args.object_dir),
    )
    code = 0
    try:
        trio.run(_main, config, args.stdio or not args.http, http, tools)
    except* KeyboardInterrupt:
        pass
    except* CannotServe as group:
        leaf: BaseException = group
        while isinstance(leaf, BaseExceptionGroup):
            leaf = leaf.exceptions[0]
        print(f"bpf-mcp: {leaf}", file=sys.stderr)
        code = 1
    if as_program:
        _exit_now(code)
    return code


def _exit_now(code: int) -> NoReturn:
    """End the process without the interpreter's teardown, which frees every object of the
    loaded kernel indexes one by one: about a second, enough to break the promise to stop
    within a second of SIGTERM. Logs and standard streams are flushed first; the server's
    own resources were already released when trio.run returned."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with suppress(Exception):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
