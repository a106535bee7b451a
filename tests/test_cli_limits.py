"""The HTTP limits on the command line: defaults, the environment, and refusals."""

from __future__ import annotations

import pytest

from bpf_mcp.cli import UsageError, build_parser, http_options
from bpf_mcp.transports.policy import (
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_SESSIONS,
    DEFAULT_SESSION_IDLE_TIMEOUT,
)

NAMES = ("MAX_CONNECTIONS", "MAX_SESSIONS", "SESSION_IDLE_TIMEOUT", "ALLOW_HOST", "TOKEN")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in NAMES:
        monkeypatch.delenv(f"BPF_MCP_{name}", raising=False)


def test_defaults_and_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    options = http_options(build_parser().parse_args(["--http"]))
    assert (options.max_connections, options.max_sessions, options.session_idle_timeout) == (
        DEFAULT_MAX_CONNECTIONS,
        DEFAULT_MAX_SESSIONS,
        DEFAULT_SESSION_IDLE_TIMEOUT,
    )
    monkeypatch.setenv("BPF_MCP_MAX_SESSIONS", "7")
    argv = ["--http", "--max-connections", "9", "--session-idle-timeout", "60"]
    options = http_options(build_parser().parse_args(argv))
    assert (options.max_connections, options.max_sessions, options.session_idle_timeout) == (
        9,
        7,
        60.0,
    )
    assert options.serve_kwargs()["max_sessions"] == 7


@pytest.mark.parametrize(
    "argv",
    [
        ["--max-connections", "0"],
        ["--max-sessions", "-1"],
        ["--session-idle-timeout", "0"],
        ["--session-idle-timeout", "inf"],
        ["--session-idle-timeout", "nan"],
    ],
)
def test_limits_must_be_positive(argv: list[str]) -> None:
    with pytest.raises(UsageError, match="must be a positive number"):
        http_options(build_parser().parse_args(["--http", *argv]))


@pytest.mark.parametrize("entry", ["*", "*:1337"])
def test_a_wildcard_allow_host_is_a_usage_error(
    entry: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(UsageError, match="no wildcard"):
        http_options(build_parser().parse_args(["--http", "--allow-host", entry]))
    monkeypatch.setenv("BPF_MCP_ALLOW_HOST", f"ok:80,{entry}")
    with pytest.raises(UsageError, match="no wildcard"):
        http_options(build_parser().parse_args(["--http"]))
