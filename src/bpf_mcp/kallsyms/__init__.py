"""Pure parser for /proc/kallsyms and what symbol names tell: text in, frozen values out."""

from bpf_mcp.kallsyms.errors import KallsymsError
from bpf_mcp.kallsyms.names import base_name, is_clone, is_padding
from bpf_mcp.kallsyms.parse import parse_kallsyms
from bpf_mcp.kallsyms.table import KernelSymbol, SymbolTable

__all__ = [
    "KallsymsError",
    "KernelSymbol",
    "SymbolTable",
    "base_name",
    "is_clone",
    "is_padding",
    "parse_kallsyms",
]
