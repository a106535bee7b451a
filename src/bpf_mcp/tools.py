"""The tools bpf-mcp offers: name, title, description, and the query and result classes
from which the input and output schemas are derived."""

from __future__ import annotations

from typing import Any

import attrs

from . import queries as q
from . import results as r
from .schema import input_schema, output_schema


@attrs.frozen
class ToolSpec:
    """One tool: what a model reads to choose it, and the classes behind its schemas."""

    name: str
    title: str
    description: str
    query: type
    result: type

    def input_schema(self) -> dict[str, Any]:
        return input_schema(self.query)

    def output_schema(self) -> dict[str, Any]:
        return output_schema(self.result)


_PAGED = (
    " Answers are paged: 'total' counts all matches and 'next_offset' is the offset of the"
    " next page (null on the last page)."
)

TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "list_tracepoints",
        "List kernel tracepoints",
        "List the static tracepoints (trace events) of the running kernel from tracefs, with"
        " each event's id and record fields (name, C type, offset, size, signedness). Use it"
        ' to find what to attach a SEC("tp/<category>/<event>") or tracepoint program to,'
        " and the layout of its context. Filter with 'category' (e.g. 'sched', 'syscalls')"
        " and/or 'pattern' (substring of 'category:event')." + _PAGED,
        q.ListTracepoints,
        r.TracepointPage,
    ),
    ToolSpec(
        "list_kernel_functions",
        "List kernel functions",
        "List kernel text symbols (functions) of the running kernel from /proc/kallsyms, with"
        " address, module and symbol type. Use it to check that a function exists under an"
        " exact name before writing a kprobe/fentry program, or to find functions by"
        " substring ('pattern'). Compiler clones appear under their own names (e.g."
        " 'foo.isra.0')." + _PAGED,
        q.ListKernelFunctions,
        r.KernelFunctionPage,
    ),
    ToolSpec(
        "get_btf_types",
        "Search kernel BTF types",
        "Search the named types of the running kernel's BTF (/sys/kernel/btf/vmlinux and"
        " modules' /sys/kernel/btf/<module>): structs, unions, enums, typedefs, functions and"
        " every other BTF kind, by name ('pattern' as a substring, exact name or glob, see"
        " 'match'; case-insensitive unless 'case_sensitive') and/or 'kind'. Each item gives"
        " the type id, kind, size, the BTF object it lives in and, for structs and unions,"
        " the member names; describe_btf_type gives one type in full. Use it to find a"
        " type's exact name or check whether a function has BTF (needed for fentry/fexit)."
        + _PAGED,
        q.GetBtfTypes,
        r.BtfTypePage,
    ),
    ToolSpec(
        "describe_btf_type",
        "Describe one kernel BTF type",
        "Decode one type of the running kernel's BTF in full, by exact name: for a struct or"
        " union every member with its C type, byte and bit offset, size and bitfield width"
        " (anonymous members expanded with their path), the holes and padding pahole would"
        " show, size and alignment; for an enum every value; for a typedef the chain to the"
        " type it names; for a function its C prototype, parameters, linkage and decl tags"
        " (bpf_kfunc...). Always includes the C definition ('c'). Use it to read a struct"
        " layout for a BPF program, check a kfunc's signature, or see what a typedef is. When"
        " several types share the name, 'kind' picks one and 'others' lists the rest; an"
        " unknown name answers an error with close matches.",
        q.DescribeBtfType,
        r.BtfTypeDescription,
    ),
    ToolSpec(
        "generate_c_header",
        "Generate a C header from kernel BTF",
        "Write a minimal, self-contained C header for some types of the running kernel's BTF"
        " (structs, unions, enums, typedefs, functions): their definitions and everything"
        " they hold by value, in dependency order, with forward declarations for types only"
        " pointed to. It compiles on its own with gcc and with clang -target bpf, and keeps"
        " the kernel's layout (packed/aligned where needed). Use it instead of a full"
        " vmlinux.h when a BPF or user-space program needs a few kernel types. At most 64"
        " names; a header over 240 KiB answers an error saying so.",
        q.GenerateCHeader,
        r.CHeader,
    ),
    ToolSpec(
        "list_bpf_program_types",
        "List BPF program types",
        "List the BPF program types the running kernel defines (its enum bpf_prog_type),"
        " each with its numeric value and a one-line description of what it is for. Use it"
        " to choose a program type or check that this kernel knows one. 'source' says"
        " whether the list came from the kernel's BTF or from the built-in table." + _PAGED,
        q.ListBpfProgramTypes,
        r.EnumPage,
    ),
    ToolSpec(
        "list_bpf_map_types",
        "List BPF map types",
        "List the BPF map types the running kernel defines (its enum bpf_map_type), each"
        " with its numeric value and a one-line description. Use it to choose a map type"
        " (hash, array, ringbuf, ...) or check that this kernel has one. 'source' says"
        " whether the list came from the kernel's BTF or from the built-in table." + _PAGED,
        q.ListBpfMapTypes,
        r.EnumPage,
    ),
    ToolSpec(
        "get_server_status",
        "bpf-mcp source status",
        "Show the state of each kernel source bpf-mcp reads (tracefs, kallsyms, BTF,"
        " reference data): loading, ready or failed, with the last error and how to fix it,"
        " restart counts and data age. Use it when another tool reports a source error.",
        q.GetServerStatus,
        r.ServerStatus,
    ),
)

TOOLS_BY_NAME: dict[str, ToolSpec] = {t.name: t for t in TOOLS}
