"""Which MCP session to close when the HTTP transport is full: a table of the open
sessions in least-recently-used order, with the requests each has in flight. Pure
bookkeeping: no I/O; the HTTP shell tells it what happened and asks it what to close."""

from __future__ import annotations

from collections import OrderedDict

import attrs


@attrs.define
class _Use:
    busy: int = 0
    """Requests in flight that are not a GET stream (a GET only listens)."""
    last: float = 0.0
    """When the session last started or finished a request (trio's clock)."""


@attrs.define
class SessionTable:
    """Open sessions by id, least recently used first.

    A session is idle when it has no request in flight other than a GET stream: a
    client that only listens, or has gone away, may lose its session to a new client;
    one that is being answered never does. Sessions the SDK ended on its own (idle
    timeout) are forgotten after `idle_timeout`.
    """

    limit: int
    idle_timeout: float | None = None
    _uses: OrderedDict[str, _Use] = attrs.Factory(OrderedDict)

    def __len__(self) -> int:
        return len(self._uses)

    def __contains__(self, session: str) -> bool:
        return session in self._uses

    def opened(self, session: str, now: float) -> None:
        """A new session answered its first request."""
        self._uses[session] = _Use(last=now)

    def began(self, session: str, now: float, *, listening: bool = False) -> None:
        """A request of `session` started (`listening`: a GET stream)."""
        use = self._uses.get(session)
        if use is None:
            return
        self._uses.move_to_end(session)
        use.last = now
        use.busy += 0 if listening else 1

    def ended(self, session: str, now: float, *, listening: bool = False) -> None:
        """A request of `session` finished."""
        use = self._uses.get(session)
        if use is None:
            return
        use.last = now
        use.busy -= 0 if listening else 1

    def closed(self, session: str) -> None:
        """The session is gone (deleted by its client, or closed here)."""
        self._uses.pop(session, None)

    def to_close(self, now: float) -> list[str]:
        """The sessions to close before one more may open: those the SDK has surely
        ended already (idle past `idle_timeout`), then, while the table is still full,
        the least recently used idle one. Empty when there is room, or when every
        session is busy (then the new one must be refused). They are forgotten here."""
        expired = [
            session
            for session, use in self._uses.items()
            if self.idle_timeout is not None and not use.busy and now - use.last > self.idle_timeout
        ]
        for session in expired:
            del self._uses[session]
        closing = list(expired)
        while len(self._uses) >= self.limit:
            idle = next((s for s, use in self._uses.items() if not use.busy), None)
            if idle is None:
                break
            del self._uses[idle]
            closing.append(idle)
        return closing

    def full(self) -> bool:
        """Whether no session may open now (every one of `limit` sessions busy)."""
        return len(self._uses) >= self.limit
