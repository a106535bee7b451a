"""The pure pieces of the HTTP transport's security: which addresses count as loopback,
which Host and Origin values are allowed, and the bearer-token check."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpf_mcp.transports.policy import (
    BearerToken,
    HttpAddress,
    hosts_allowed,
    is_loopback,
    origins_allowed,
)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.0.2.1", False),
        ("example.org", False),
        ("localhost.example.org", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_hosts_for_a_loopback_bind_carry_the_bound_port() -> None:
    hosts = hosts_allowed("localhost", HttpAddress("127.0.0.1", 4711))
    assert hosts == ["localhost:4711", "127.0.0.1:4711", "[::1]:4711"]
    assert origins_allowed(hosts) == [
        "http://localhost:4711",
        "http://127.0.0.1:4711",
        "http://[::1]:4711",
    ]


def test_hosts_for_every_interface_and_extras() -> None:
    hosts = hosts_allowed(
        "0.0.0.0", HttpAddress("0.0.0.0", 80), ["proxy.example", "n:*"], machine_name="box"
    )
    assert "0.0.0.0:80" not in hosts
    for expected in ("127.0.0.1:80", "127.0.0.1", "localhost:80", "box:80", "box"):
        assert expected in hosts
    assert hosts[-2:] == ["proxy.example", "n:*"]
    origins = origins_allowed(hosts, ["https://app.example/"])
    assert "http://n:*" not in origins
    assert origins[-1] == "https://app.example"


def test_hosts_for_one_ipv6_address() -> None:
    hosts = hosts_allowed("2001:db8::5", HttpAddress("2001:db8::5", 9000), machine_name="box")
    assert hosts == ["[2001:db8::5]:9000", "box:9000"]


def test_bearer_token() -> None:
    token = BearerToken("abc.DEF-123")
    assert token.matches("Bearer abc.DEF-123")
    assert token.matches("bearer   abc.DEF-123 ")
    for header in (None, "", "Bearer", "Bearer abc", "Basic abc.DEF-123", "abc.DEF-123"):
        assert not token.matches(header)
    assert "abc" not in repr(token)
    for bad in ("", " padded", "padded\n"):
        with pytest.raises(ValueError, match="bearer token"):
            BearerToken(bad)


@given(st.text(min_size=1).filter(lambda t: t == t.strip()), st.text())
def test_only_the_token_itself_matches(secret: str, presented: str) -> None:
    token = BearerToken(secret)
    assert token.matches(f"Bearer {presented}") is (presented.strip() == secret)
