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
    query: type[q.Query[Any]]
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
        " 'foo.isra.0'; 'include_clones': false hides them). 'has_btf' keeps functions"
        " with (or without) a BTF prototype; 'attachable' (kprobe, kretprobe, fentry,"
        " fexit) drops those that mechanism certainly cannot attach to and gives each"
        " item's verdict. For one function in depth, use get_kernel_function." + _PAGED,
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
        " each with its numeric value, a one-line description of what it is for, whether"
        " this kernel was built with it ('compiled_in', from struct bpf_ctx_convert) and"
        " the context types its programs see (user and kernel side). Use it to choose a"
        " program type or check that this kernel supports one. 'source' says whether the"
        " list came from the kernel's BTF or from the built-in table." + _PAGED,
        q.ListBpfProgramTypes,
        r.ProgramTypePage,
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

TOOLS += (
    ToolSpec(
        "get_tracepoint",
        "Describe one tracepoint",
        "Everything needed to write a program for one tracepoint ('category:event', e.g."
        " 'sched:sched_switch'): its id, fields (the common header apart) with C types and"
        " the typedefs resolved through BTF, how to read __data_loc fields, the print"
        ' format, a C struct for a SEC("tp/category/event") program\'s context whose'
        " offsets match the record, and the typed arguments of the raw tracepoint"
        " (btf_trace_<event>) for tp_btf/raw_tp programs. Unknown names get near matches.",
        q.GetTracepoint,
        r.TracepointDetail,
    ),
    ToolSpec(
        "list_raw_tracepoints",
        "List typed raw tracepoints",
        "List the raw tracepoints the kernel's BTF types (its btf_trace_<name> typedefs),"
        " each with its argument types, a tp_btf program head, and the tracefs event of the"
        ' same name if there is one (some have none). Use it for SEC("tp_btf/...") and'
        " SEC(\"raw_tp/...\") programs. Filter with 'pattern'." + _PAGED,
        q.ListRawTracepoints,
        r.RawTracepointPage,
    ),
    ToolSpec(
        "get_kernel_function",
        "Can I attach to this kernel function?",
        "For one kernel function name: every /proc/kallsyms symbol of that name and its"
        " compiler clones (.isra, .constprop, .part, .cold) with addresses and text area,"
        " its BTF prototype in C, and a verdict for each attach mechanism (kprobe,"
        " kretprobe, fentry, fexit): yes, no or unknown, with the reasons read from this"
        " kernel (no kprobes built in, kprobe blacklist, notrace, __init code freed after"
        " boot, noinstr or entry code, clones only, no BTF) and, for unknown, what would"
        " settle it. Use it before writing a kprobe or fentry program.",
        q.GetKernelFunction,
        r.KernelFunctionDetail,
    ),
    ToolSpec(
        "list_kfuncs",
        "List BPF kfuncs",
        "List the kernel functions BPF programs may call directly (kfuncs: BTF FUNCs tagged"
        " bpf_kfunc), each with its C prototype and the annotations its parameter names"
        " carry (__sz, __k, __nullable, __uninit, __ign, __str, __opt...) explained. Filter"
        " with 'pattern' (e.g. 'dynptr', 'task', 'cpumask')." + _PAGED,
        q.ListKfuncs,
        r.KfuncPage,
    ),
    ToolSpec(
        "list_bpf_helpers",
        "List BPF helpers",
        "List the BPF helper functions of the running kernel (its enum bpf_func_id), each"
        " with its id, a one-line description, and its argument names as the kernel's BTF"
        " records them. Use it to check that a helper exists here and what it is for."
        " Filter with 'pattern' (e.g. 'ringbuf', 'probe_read')." + _PAGED,
        q.ListBpfHelpers,
        r.BpfHelperPage,
    ),
    ToolSpec(
        "list_bpf_attach_types",
        "List BPF attach and link types",
        "List the values of the running kernel's enum bpf_attach_type (where a program can"
        " be attached: cgroup hooks, fentry/fexit, LSM, tcx, netfilter...) and enum"
        " bpf_link_type, each with its value and a one-line description. Filter with"
        " 'pattern'.",
        q.ListBpfAttachTypes,
        r.AttachTypePage,
    ),
    ToolSpec(
        "list_bpf_hooks",
        "List BPF LSM hooks, iterators and struct_ops",
        "List the places this kernel's BTF offers for attach-by-type programs: LSM hooks"
        ' (SEC("lsm/<hook>"), with C prototypes, and whether BPF LSM is active here), BPF'
        ' iterator targets (SEC("iter/<target>"), with their context struct) and'
        " struct_ops types (with the operations a program can implement). Filter with"
        " 'kind' (lsm, iterator, struct_ops) and 'pattern'." + _PAGED,
        q.ListBpfHooks,
        r.BpfHookPage,
    ),
    ToolSpec(
        "get_kernel_info",
        "Kernel facts for BPF",
        "What the running kernel was built with and allows for BPF: release and arch, BTF"
        " presence and size, where tracefs/debugfs/securityfs are mounted, BPF-relevant"
        " config flags (with what each means), sysctls (unprivileged_bpf_disabled, JIT,"
        " kptr_restrict, perf_event_paranoid), lockdown, active LSMs, perf event sources,"
        " the bpf-mcp process's own capabilities, whether kprobes, fentry/fexit and BPF"
        " LSM work here, and every file consulted: readable or why not, with the fix.",
        q.GetKernelInfo,
        r.KernelInfo,
    ),
    ToolSpec(
        "list_loaded_bpf",
        "List loaded BPF programs, maps, links",
        "List the BPF objects loaded in the running kernel right now, read-only through"
        " bpf() (as bpftool prog/map/link/btf show): 'kind' programs (default: id, name,"
        " type, tag, load time, memlock, run time and count when kernel.bpf_stats_enabled"
        " is on), maps (key/value sizes, max entries), links (program and attach point:"
        " function, tracepoint, cgroup path, device...) or btf; each with the processes"
        " holding it and its bpffs pins. Narrow with 'pattern' (substring of name, type,"
        " attach point, process name or pin path); get_loaded_bpf gives one object in"
        " full. Needs CAP_SYS_ADMIN; the answer says what to grant otherwise, how old the"
        " scan is, and what it left out." + _PAGED,
        q.ListLoadedBpf,
        r.LoadedBpfPage,
    ),
    ToolSpec(
        "get_loaded_bpf",
        "Describe one loaded BPF object",
        "One loaded BPF object in full, by 'kind' (programs, maps, links, btf) and 'id':"
        " for a program its maps, links, BTF function names, the kernel function it"
        " attaches to (tracing, LSM), verified instruction count, translated and JITed"
        " sizes, run statistics, owners and pins (no instruction dumps); for a map its"
        " sizes, flags and the programs using it; for a link its program and attach point;"
        " for BTF the programs and maps using it. An unknown id answers an error listing"
        " the loaded ids.",
        q.GetLoadedBpf,
        r.LoadedBpfObject,
    ),
)

TOOLS_BY_NAME: dict[str, ToolSpec] = {t.name: t for t in TOOLS}
