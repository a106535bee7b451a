"""The small kernel files behind get_kernel_info and the attach verdicts: pure parsers
and the frozen values the system reader emits. No I/O here."""

from .facts import FileFact, FileState, SystemFacts
from .parse import (
    CAPABILITIES,
    Mount,
    capability_names,
    parse_cap_effective,
    parse_config,
    parse_first_number,
    parse_function_list,
    parse_kprobe_blacklist,
    parse_lockdown,
    parse_lsm_list,
    parse_mounts,
)

__all__ = [
    "CAPABILITIES",
    "FileFact",
    "FileState",
    "Mount",
    "SystemFacts",
    "capability_names",
    "parse_cap_effective",
    "parse_config",
    "parse_first_number",
    "parse_function_list",
    "parse_kprobe_blacklist",
    "parse_lockdown",
    "parse_lsm_list",
    "parse_mounts",
]
