"""The `bpf-mcp` command's HTTP options: parsing and checks in process, then the real
process serving HTTP (alone and beside stdio) and stopping on signals."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import httpx2
import pytest
import trio
from mcp import Client

from bpf_mcp.cli import UsageError, build_parser, http_options, main, parse_bind

from .support import FIXTURES, LEGACY_VERSION, initialize_request, open_session, rpc

SERVER = [sys.executable, "-m", "bpf_mcp", "--sysroot", str(FIXTURES)]
URL = re.compile(rb"serving MCP on (http://\S+/mcp)")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:1337", ("127.0.0.1", 1337)),
        ("localhost:0", ("localhost", 0)),
        ("[::1]:8080", ("::1", 8080)),
        ("[::]", ("::", 1337)),
        ("0.0.0.0", ("0.0.0.0", 1337)),
    ],
)
def test_parse_bind(text: str, expected: tuple[str, int]) -> None:
    assert parse_bind(text) == expected


@pytest.mark.parametrize("text", ["::1:80", ":80", "host:port", "host:70000", "[::1", "[::1]x"])
def test_parse_bind_refuses(text: str) -> None:
    with pytest.raises(UsageError, match="--bind"):
        parse_bind(text)


def _options(argv: list[str], monkeypatch: pytest.MonkeyPatch, **env: str) -> Any:
    for name in ("TOKEN", "TOKEN_FILE", "ALLOW_ORIGIN", "ALLOW_HOST", "BIND", "STATELESS"):
        monkeypatch.delenv(f"BPF_MCP_{name}", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(f"BPF_MCP_{name}", value)
    return http_options(build_parser().parse_args(["--http", *argv]))


def test_http_options_defaults_and_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    options = _options([], monkeypatch)
    assert (options.host, options.port, options.token) == ("127.0.0.1", 1337, None)
    assert not options.stateless and not options.json_response

    options = _options(
        [], monkeypatch, BIND="[::1]:0", ALLOW_ORIGIN="http://a:1, http://b:2", STATELESS="yes"
    )
    assert (options.host, options.port, options.stateless) == ("::1", 0, True)
    assert options.allowed_origins == ("http://a:1", "http://b:2")
    # An option wins over the environment.
    options = _options(["--allow-origin", "http://c:3"], monkeypatch, ALLOW_ORIGIN="http://a:1")
    assert options.allowed_origins == ("http://c:3",)


def test_token_sources_and_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n")
    token_file.chmod(0o600)
    assert _options(["--token-file", str(token_file)], monkeypatch).token == "from-file"
    assert _options([], monkeypatch, TOKEN="from-env").token == "from-env"
    assert _options([], monkeypatch, TOKEN_FILE=str(token_file)).token == "from-file"
    option_wins = _options(["--token-file", str(token_file)], monkeypatch, TOKEN="from-env")
    assert option_wins.token == "from-file"
    assert "from-file" not in repr(option_wins)
    with pytest.raises(UsageError, match="not both"):
        _options([], monkeypatch, TOKEN="a", TOKEN_FILE=str(token_file))
    for content in ("", "  \n", "two words"):
        token_file.write_text(content)
        with pytest.raises(UsageError, match="--token-file") as caught:
            _options(["--token-file", str(token_file)], monkeypatch)
        assert "two" not in str(caught.value)
    with pytest.raises(UsageError, match="cannot read"):
        _options(["--token-file", str(tmp_path / "absent")], monkeypatch)


def test_non_loopback_needs_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for bind in ("0.0.0.0:0", "[::]:0", "192.0.2.1:80", "myhost:1337"):
        with pytest.raises(UsageError, match="needs a bearer token"):
            _options(["--bind", bind], monkeypatch)
    assert _options(["--bind", "0.0.0.0:0"], monkeypatch, TOKEN="t").token == "t"
    options = _options(["--bind", "0.0.0.0:0", "--insecure-no-auth"], monkeypatch)
    assert options.insecure_no_auth and options.token is None
    assert "WITHOUT AUTHENTICATION" in capsys.readouterr().err
    # The command refuses before starting anything.
    code = main(["--http", "--bind", "0.0.0.0:1", "--sysroot", str(FIXTURES)])
    assert code == 2
    assert "needs a bearer token" in capsys.readouterr().err


def test_stdio_alone_never_imports_hypercorn() -> None:
    probe = (
        "import sys; from bpf_mcp.cli import main; code = main(['--sysroot', sys.argv[1]]);"
        " assert 'hypercorn' not in sys.modules, 'hypercorn was imported'; sys.exit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(FIXTURES)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()


class _Server:
    """A `bpf-mcp` subprocess whose stderr is read until it prints its URL."""

    def __init__(self, process: trio.Process) -> None:
        self.process = process
        self.stderr = b""
        self.url = ""

    async def wait_for_url(self) -> str:
        assert self.process.stderr is not None
        while not (found := URL.search(self.stderr)):
            chunk = await self.process.stderr.receive_some()
            assert chunk, f"bpf-mcp exited before serving: {self.stderr.decode()}"
            self.stderr += chunk
        self.url = found.group(1).decode()
        return self.url


@asynccontextmanager
async def spawn(*args: str, **env: str) -> AsyncIterator[_Server]:
    process = await trio.lowlevel.open_process(
        [*SERVER, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **env},
    )
    try:
        yield _Server(process)
    finally:
        if process.returncode is None:
            process.kill()
        with trio.move_on_after(5):
            await process.wait()


slow = pytest.mark.slow


@slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_process_serves_http_and_stops_within_a_second(signum: int) -> None:
    async with spawn("--http", "--bind", "127.0.0.1:0") as server:
        with trio.fail_after(30):
            url = await server.wait_for_url()
            async with Client(url, mode="legacy") as client:
                result = await client.call_tool("list_bpf_map_types", {"pattern": "ringbuf"})
                assert not result.is_error

        async with httpx2.AsyncClient(timeout=30) as http, trio.open_nursery() as nursery:
            stream_open = trio.Event()

            async def listen(session: str) -> None:
                headers = {
                    "accept": "text/event-stream",
                    "mcp-session-id": session,
                    "mcp-protocol-version": LEGACY_VERSION,
                }
                with suppress(httpx2.HTTPError):
                    async with http.stream("GET", url, headers=headers) as response:
                        assert response.status_code == 200
                        stream_open.set()
                        async for _ in response.aiter_bytes():
                            pass

            with trio.fail_after(30):
                session = await open_session(http, url)
                nursery.start_soon(listen, session)
                await stream_open.wait()
            server.process.send_signal(signum)
            with trio.fail_after(1):
                code = await server.process.wait()
        assert code == 0
        assert server.process.stdout is not None
        assert await server.process.stdout.receive_some() == b""  # nothing but protocol


@slow
async def test_process_serves_stdio_and_http_together() -> None:
    async with spawn("--stdio", "--http", "--bind", "127.0.0.1:0") as server:
        process = server.process
        assert process.stdin is not None and process.stdout is not None
        with trio.fail_after(30):
            url = await server.wait_for_url()
            lines = [
                initialize_request(),
                rpc("notifications/initialized", id=None),
                rpc("tools/call", {"name": "list_bpf_map_types", "arguments": {"limit": 1}}, 7),
            ]
            await process.stdin.send_all(b"".join(json.dumps(m).encode() + b"\n" for m in lines))
            received = b""
            while received.count(b"\n") < 2:
                received += await process.stdout.receive_some()
            answers = [json.loads(line) for line in received.splitlines()]
            assert [a["id"] for a in answers] == [0, 7]
            assert answers[1]["result"]["structuredContent"]["items"]

            async with Client(url, mode="auto") as client:
                result = await client.call_tool("list_bpf_map_types", {"limit": 1})
                assert result.structured_content == answers[1]["result"]["structuredContent"]

            # The end of stdin ends the process, HTTP included.
            await process.stdin.aclose()
            assert await process.wait() == 0


@slow
async def test_process_with_token_from_the_environment() -> None:
    async with spawn("--http", "--bind", "127.0.0.1:0", BPF_MCP_TOKEN="tok-123") as server:
        with trio.fail_after(30):
            url = await server.wait_for_url()
            async with httpx2.AsyncClient() as http:
                assert (await http.get(url.replace("/mcp", "/healthz"))).status_code == 401
                session = await open_session(http, url, authorization="Bearer tok-123")
                assert session
            server.process.send_signal(signal.SIGTERM)
            assert await server.process.wait() == 0
        assert b"tok-123" not in server.stderr


@slow
async def test_process_reports_an_address_in_use() -> None:
    listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
    port = listeners[0].socket.getsockname()[1]
    try:
        async with spawn("--http", "--bind", f"127.0.0.1:{port}") as server:
            with trio.fail_after(30):
                code = await server.process.wait()
            assert server.process.stderr is not None
            stderr = b""
            while chunk := await server.process.stderr.receive_some():
                stderr += chunk
        assert code == 1
        assert b"cannot listen on 127.0.0.1:%d" % port in stderr
        assert b"Traceback" not in stderr
    finally:
        for listener in listeners:
            await listener.aclose()
