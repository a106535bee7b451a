"""The pure pieces of the HTTP transport's security: which addresses count as loopback,
which Host and Origin values are allowed, and the bearer-token check."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bpf_mcp.transports.policy import (
    BearerToken,
    Gate,
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


# -- the gate: Host, Origin and token rules, from headers alone -------------------------------

GATE_HOSTS = ("127.0.0.1:1337", "localhost:1337", "mcp.internal:*")
GATE_ORIGINS = ("http://127.0.0.1:1337", "http://localhost:1337")


def gate(token: str | None = None) -> Gate:
    return Gate(GATE_HOSTS, GATE_ORIGINS, BearerToken(token) if token else None)


def test_gate_refuses_an_unknown_host_and_says_which_and_how_to_allow_it() -> None:
    refused = gate().refusal(host="127.0.0.1:18404", origin=None, authorization=None)
    assert refused is not None and refused.status == 421
    assert "'127.0.0.1:18404'" in refused.body["detail"]
    assert "--allow-host" in refused.body["detail"]


def test_gate_compares_hosts_without_case_and_honours_port_wildcards() -> None:
    for host in ("LOCALHOST:1337", "Localhost:1337", "mcp.internal:443", "MCP.Internal:80"):
        assert gate().refusal(host=host, origin=None, authorization=None) is None
    assert gate().refusal(host="mcp.internal.evil:80", origin=None, authorization=None)


def test_a_request_with_the_valid_token_is_served_whatever_its_host() -> None:
    token = "s3cret-t0ken"
    auth = f"Bearer {token}"
    for host in ("127.0.0.1:18404", "node-7.cluster:31337", None):
        assert gate(token).refusal(host=host, origin=None, authorization=auth) is None
    # Without the token the Host rule stands, and a wrong token gets no pass either.
    assert gate(token).refusal(host="127.0.0.1:18404", origin=None, authorization=None)
    wrong = gate(token).refusal(host="localhost:1337", origin=None, authorization=auth + "x")
    assert wrong is not None and wrong.status == 401
    assert token not in str(wrong)


def test_the_token_does_not_lift_the_origin_check() -> None:
    auth = "Bearer s3cret-t0ken"
    refused = gate("s3cret-t0ken").refusal(
        host="localhost:1337", origin="http://evil.example", authorization=auth
    )
    assert refused is not None and refused.status == 403
    assert "--allow-origin" in refused.body["detail"]


def test_a_refusal_quotes_hostile_headers_escaped_and_short() -> None:
    refused = gate().refusal(host="\u00e9vil" + "x" * 500, origin=None, authorization=None)
    assert refused is not None
    detail = refused.body["detail"]
    assert detail.isascii() and len(detail) < 400


def test_a_host_naming_the_address_the_connection_reached_is_served() -> None:
    """Bound to every interface, a client may use any of the machine's addresses: the
    address its connection reached is not a name an attacker controls."""
    everywhere = Gate(("localhost:1337", "127.0.0.1:1337"), (), None)
    for host, local in (
        ("10.1.2.3:1337", "10.1.2.3:1337"),
        ("[2001:db8::7]:1337", "[2001:db8::7]:1337"),
        ("10.1.2.3:1337", "[::ffff:10.1.2.3]:1337"),  # IPv4 over a dual-stack socket
    ):
        assert everywhere.refusal(host=host, origin=None, authorization=None, local=local) is None
    refused_pairs: tuple[tuple[str, str | None], ...] = (
        ("10.1.2.3:1337", "10.1.2.4:1337"),  # another address
        ("10.1.2.3:80", "10.1.2.3:1337"),  # another port
        ("evil.example:1337", "10.1.2.3:1337"),  # a name
        ("10.1.2.3:1337", None),
    )
    for name, reached in refused_pairs:
        refused = everywhere.refusal(host=name, origin=None, authorization=None, local=reached)
        assert refused is not None and refused.status == 421
