"""Pure BTF parsing: a blob of bytes in, a `Btf` that answers questions about types out.

No I/O and no trio here; readers load the bytes and call `parse_btf`.
"""

from __future__ import annotations

from .errors import BtfError
from .index import Btf
from .model import ArrayInfo, DatasecEntry, EnumValue, IntInfo, Kind, Member, Param
from .parser import parse_btf
from .render import c_definition, declaration, func_prototype, type_name

__all__ = [
    "ArrayInfo",
    "Btf",
    "BtfError",
    "DatasecEntry",
    "EnumValue",
    "IntInfo",
    "Kind",
    "Member",
    "Param",
    "c_definition",
    "declaration",
    "func_prototype",
    "parse_btf",
    "type_name",
]
