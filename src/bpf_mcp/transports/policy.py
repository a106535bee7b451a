"""Who may talk to the HTTP transport: Host and Origin lists against DNS rebinding, and
the bearer token. Pure policy: no sockets, no ASGI."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
from collections.abc import Iterable
from typing import NamedTuple

import attrs

DEFAULT_PATH = "/mcp"
DEFAULT_MAX_CONNECTIONS = 256
"""Connections open at once; more wait in the listen backlog."""
DEFAULT_MAX_SESSIONS = 128
"""Sessions open at once; one more closes the least recently used idle one."""
DEFAULT_SESSION_IDLE_TIMEOUT = 1800.0
"""Seconds a session lives with no request in flight."""

_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
_WILDCARDS = ("0.0.0.0", "::", "")


class HttpAddress(NamedTuple):
    """Where the server listens, as `serve_http` reports it through `task_status.started`."""

    host: str
    port: int

    def url(self, path: str = DEFAULT_PATH) -> str:
        """The URL of `path` on this address (IPv6 hosts in brackets)."""
        return f"http://{authority(self.host, self.port)}{path}"


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def authority(host: str, port: int) -> str:
    return f"{_bracketed(host)}:{port}"


def is_loopback(host: str) -> bool:
    """True when `host` names this machine's loopback interface only.

    "localhost" and loopback literals (127.0.0.0/8, ::1) count; every other name counts as
    reachable from elsewhere, without asking DNS, so the answer errs on the safe side.
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def hosts_allowed(
    host: str, bound: HttpAddress, extra: Iterable[str] = (), *, machine_name: str | None = None
) -> list[str]:
    """Host header values accepted when serving on `bound` after being asked for `host`.

    The bound address and the name it was asked for, with the bound port; the loopback
    names when serving on loopback or on every interface; this machine's name when
    reachable from elsewhere; then `extra` verbatim (`name:*` matches any port).
    """
    names: list[str] = []
    if host not in _WILDCARDS:
        names.append(host)
    if bound.host not in _WILDCARDS:
        names.append(bound.host)
    if is_loopback(bound.host) or bound.host in _WILDCARDS:
        names += _LOOPBACK_NAMES
    if not is_loopback(bound.host):
        names.append(machine_name if machine_name is not None else socket.gethostname())
    result: list[str] = []
    for name in names:
        values = [authority(name, bound.port)]
        if bound.port == 80:
            values.append(_bracketed(name))
        result += [v for v in values if v not in result]
    result += [v for v in extra if v not in result]
    return result


def check_allowed_hosts(extra: Iterable[str]) -> None:
    """Raise ValueError for an --allow-host entry that is not one Host value: `*` (or any
    `*` but a final `:*` for any port) would be taken for a name and match nothing, and
    allowing every Host would switch off the DNS-rebinding protection. Sending the bearer
    token is how a client may use any Host."""
    for entry in extra:
        if "*" in entry.removesuffix(":*") or not entry.removesuffix(":*"):
            raise ValueError(
                f"--allow-host {entry!r}: give a host name or address, with a port or ':*'"
                " for any port (e.g. 'myhost:*'); there is no wildcard for every host: a"
                " request that carries the bearer token is served whatever its Host"
            )


def origins_allowed(hosts: Iterable[str], extra: Iterable[str] = ()) -> list[str]:
    """Origin header values accepted: the server's own `http://` origins, then `extra`."""
    result = [f"http://{h}" for h in hosts if not h.endswith(":*")]
    return result + [o.rstrip("/") for o in extra if o.rstrip("/") not in result]


class BearerToken:
    """A bearer token, kept only as its SHA-256 digest so it cannot leak into a repr or log.

    Comparison hashes the presented value too, so `hmac.compare_digest` sees equal lengths
    and the time taken reveals neither the token nor its length.
    """

    __slots__ = ("_digest",)

    def __init__(self, token: str) -> None:
        if not token or token != token.strip():
            raise ValueError("a bearer token must be non-empty, without surrounding whitespace")
        self._digest = hashlib.sha256(token.encode()).digest()

    def __repr__(self) -> str:
        return "BearerToken(<redacted>)"

    def matches(self, authorization: str | None) -> bool:
        """True when an `Authorization` header value carries this token as `Bearer`."""
        if authorization is None:
            return False
        scheme, _, presented = authorization.strip().partition(" ")
        if scheme.lower() != "bearer":
            return False
        digest = hashlib.sha256(presented.strip().encode("utf-8", "surrogateescape")).digest()
        return hmac.compare_digest(digest, self._digest)


@attrs.frozen
class Refusal:
    """Why a request is not served: its HTTP status, a JSON body, extra headers."""

    status: int
    body: dict[str, str]
    headers: tuple[tuple[str, str], ...] = ()


def _shown(value: str) -> str:
    """A header value as a refusal may quote it: ASCII-escaped, at most 100 characters."""
    text = value.encode("ascii", "backslashreplace").decode("ascii")
    return text if len(text) <= 100 else text[:97] + "..."


def _same_address(host: str, local: str | None) -> bool:
    """Whether the Host value `host` names `local`, the address and port the connection
    reached (an IPv4 address reached over an IPv6 socket counts as itself)."""
    if local is None:
        return False
    wanted_host, _, wanted_port = local.rpartition(":")
    name, _, port = host.rpartition(":")
    if port != wanted_port:
        return False
    try:
        address = ipaddress.ip_address(name.strip("[]"))
        reached = ipaddress.ip_address(wanted_host.strip("[]"))
    except ValueError:
        return False
    if isinstance(reached, ipaddress.IPv6Address) and reached.ipv4_mapped is not None:
        reached = reached.ipv4_mapped
    return address == reached


def _listed(value: str, allowed: Iterable[str]) -> bool:
    """Whether `value` is among `allowed`, ignoring case; `name:*` allows any port."""
    folded = value.lower()
    for entry in allowed:
        entry = entry.lower()
        if folded == entry or (entry.endswith(":*") and folded.startswith(entry[:-1])):
            return True
    return False


@attrs.frozen
class Gate:
    """Who may use the HTTP transport, decided from a request's headers alone.

    DNS rebinding lets a web page in a browser send requests to a local server under a
    name the attacker controls; the Host and Origin lists stop that. A request that
    carries the valid bearer token cannot come from such a page (the page does not know
    the token), so with a token its Host is not checked: the server may then be reached by
    any name or mapped port (a container's `-p 127.0.0.1:18404:1337`). Its Origin still is.
    A Host that is the very address and port the connection reached (`local`) is an
    address, not a name an attacker controls: it is allowed too, so a server bound to
    every interface (0.0.0.0) answers clients that use any of the machine's addresses.
    """

    hosts: tuple[str, ...]
    origins: tuple[str, ...]
    token: BearerToken | None

    def refusal(
        self,
        *,
        host: str | None,
        origin: str | None,
        authorization: str | None,
        local: str | None = None,
    ) -> Refusal | None:
        """The refusal of a request with these headers, reaching the address `local`
        ('address:port', when known), or None to serve it."""
        authorized = self.token is not None and self.token.matches(authorization)
        listed = host is not None and (_listed(host, self.hosts) or _same_address(host, local))
        if not authorized and not listed:
            shown = "no Host header" if host is None else f"Host {_shown(host)!r}"
            return Refusal(
                421,
                {
                    "error": "misdirected request",
                    "detail": f"{shown} is not a name of this server (DNS-rebinding"
                    " protection). Allow it with --allow-host NAME:PORT ('NAME:*' for any"
                    " port), or send the bearer token when the server has one.",
                },
            )
        if origin is not None and not _listed(origin.rstrip("/"), self.origins):
            return Refusal(
                403,
                {
                    "error": "forbidden origin",
                    "detail": f"Origin {_shown(origin)!r} may not use this server."
                    " Allow it with --allow-origin ORIGIN.",
                },
            )
        if self.token is not None and not authorized:
            challenge = 'Bearer realm="bpf-mcp"'
            if authorization is not None:
                challenge += ', error="invalid_token"'
            return Refusal(
                401,
                {"error": "unauthorized", "detail": "a valid bearer token is required"},
                (("www-authenticate", challenge), ("cache-control", "no-store")),
            )
        return None
