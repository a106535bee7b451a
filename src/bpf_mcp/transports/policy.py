"""Who may talk to the HTTP transport: Host and Origin lists against DNS rebinding, and
the bearer token. Pure policy: no sockets, no ASGI."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import socket
from collections.abc import Iterable
from typing import NamedTuple

DEFAULT_PATH = "/mcp"

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
