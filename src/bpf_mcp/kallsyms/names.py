"""What a kernel symbol's name says about it."""

from __future__ import annotations

import re

# Suffixes GCC and Clang append to the functions they clone, split or rename:
# `.isra.N` (scalar replacement of aggregates), `.constprop.N` (constant propagation),
# `.part.N` (partial inlining), `.cold` / `.cold.N` (the unlikely path moved out of line),
# `.llvm.N` and `.lto_priv.N` (LTO promotion of local symbols). They stack:
# `foo.constprop.0.isra.0`, `foo.part.0.cold`.
_CLONE_SUFFIXES = re.compile(
    r"(?:\.(?:isra|constprop|part|llvm|lto_priv)\.[0-9]+|\.cold(?:\.[0-9]+)?)+\Z", re.ASCII
)
_PADDING_PREFIX = "__pfx_"


def base_name(name: str) -> str:
    """`name` without the compiler's clone suffixes: the function the source defines.

    `foo.constprop.0.isra.0` -> `foo`; `foo.cold` -> `foo`; a name with no such suffix is
    returned unchanged, and so is a name that is nothing but suffixes.
    """
    match = _CLONE_SUFFIXES.search(name, 1)
    if match is None:
        return name
    return name[: match.start()]


def is_clone(name: str) -> bool:
    """True when `name` carries a compiler clone suffix (see `base_name`)."""
    return base_name(name) != name


def is_padding(name: str) -> bool:
    """True for `__pfx_<function>` symbols: the padding the compiler places before a
    function's entry (for call-depth tracking and CFI), not a function that can be traced.
    """
    return name.startswith(_PADDING_PREFIX)
