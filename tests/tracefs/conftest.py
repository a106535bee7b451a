"""Where the captured tracefs lives, and how to reach the live one."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "fixtures" / "linux-6.18"
FIXTURE_TRACEFS = FIXTURE / "sys" / "kernel" / "tracing"
LIVE_TRACEFS_MOUNTS = (Path("/sys/kernel/tracing"), Path("/sys/kernel/debug/tracing"))


def fixture_format_files() -> list[Path]:
    """Every `events/*/*/format` file of the captured kernel, sorted."""
    return sorted(FIXTURE_TRACEFS.glob("events/*/*/format"))


def read_fixture_format(category: str, event: str) -> str:
    return (FIXTURE_TRACEFS / "events" / category / event / "format").read_text()


def live_tracefs_or_skip() -> Path:
    """The running kernel's tracefs directory, or skip saying why it cannot be read."""
    reasons = []
    for mount in LIVE_TRACEFS_MOUNTS:
        try:
            (mount / "available_events").stat()
        except PermissionError:
            reasons.append(f"{mount} is not readable by this user (tracefs is mode 0700)")
        except OSError as error:
            reasons.append(f"{mount}/available_events: {error.strerror}")
        else:
            return mount
    pytest.skip("tracefs is not mounted or not readable: " + "; ".join(reasons))


def format_text(name: str, event_id: int, fields: list[str], print_fmt: str = '"x"') -> str:
    """A format file as the kernel writes it, with the four common fields first.

    Each entry of `fields` is "declaration;offset;size;signed".
    """
    common = [
        "unsigned short common_type;0;2;0",
        "unsigned char common_flags;2;1;0",
        "unsigned char common_preempt_count;3;1;0",
        "int common_pid;4;4;1",
    ]

    def line(spec: str) -> str:
        declaration, offset, size, signed = spec.split(";")
        return f"\tfield:{declaration};\toffset:{offset};\tsize:{size};\tsigned:{signed};\n"

    return (
        f"name: {name}\nID: {event_id}\nformat:\n"
        + "".join(map(line, common))
        + "\n"
        + "".join(map(line, fields))
        + f"\nprint fmt: {print_fmt}\n"
    )
