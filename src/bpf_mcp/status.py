"""The state of each source, as the supervisor reports it and the router keeps it."""

from __future__ import annotations

from typing import Literal

import attrs

from .errors import SourceFailure
from .sources import Source

State = Literal["loading", "ready", "failed"]


@attrs.frozen
class SourceStatus:
    """What is known about one source at one moment.

    `since` is the wall-clock time (seconds since the epoch) the state was entered;
    `loaded_at` the time the data now served was read (None before the first load);
    `failures` counts consecutive failed attempts, `restarts` all restarts since start;
    `gave_up` is true once fast retries stopped and only slow re-checks remain;
    `next_attempt_in` is the delay before the next attempt when failed.
    """

    source: Source
    state: State
    since: float
    origin: str = ""
    summary: str = ""
    loaded_at: float | None = None
    failure: SourceFailure | None = None
    failures: int = 0
    restarts: int = 0
    gave_up: bool = False
    next_attempt_in: float | None = None
