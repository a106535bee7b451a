"""Where the checkout's captured kernel is, and when a test of the live one must skip:
one place for every test module, whichever folder it sits in."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURE_ROOT = REPO / "fixtures" / "linux-6.18"
LINUX_6_12 = REPO / "fixtures" / "linux-6.12"
"""Debian's 6.12 cloud kernel, stored xz-compressed: unpack it with unpack_fixture."""
BTF_BLOBS = REPO / "fixtures" / "btf"


def live_readable(*paths: str) -> str | None:
    """None when every path can be read here, else the reason a live test must skip."""
    for path in paths:
        if not os.path.exists(path):
            return f"{path} does not exist on this machine"
        if not os.access(path, os.R_OK):
            return f"{path} is not readable by this user"
    return None
