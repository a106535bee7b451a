"""The tools bpf-mcp offers: name, title, description, and the query and result classes
from which the input and output schemas are derived."""

from __future__ import annotations

from typing import Any

import attrs

from . import queries as q
from . import results as r
from . import results_compare as rc
from .schema import input_schema, output_schema


@attrs.frozen
class ToolSpec:
    """One tool: what a model reads to choose it, and the classes behind its schemas."""

    name: str
    title: str
    description: str
    query: type[q.Query[Any]]
    result: type
    per_kernel: bool = True
    """Whether it takes the optional `kernel` argument (the data of a registered kernel)."""

    def input_schema(self) -> dict[str, Any]:
        schema = input_schema(self.query)
        if self.per_kernel:
            schema["properties"] = {**schema.get("properties", {}), "kernel": KERNEL_ARGUMENT}
        return schema

    def output_schema(self) -> dict[str, Any]:
        return output_schema(self.result)


KERNEL_ARGUMENT: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "maxLength": q.MAX_KERNEL_NAME,
    "description": "A kernel from list_kernels; default local.",
}

_PAGED = " Paged by 'total' and 'next_offset': narrow with the filters first."

TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "list_tracepoints",
        "List kernel tracepoints",
        "List the static tracepoints (trace events) of the running kernel from tracefs: name"
        " ('category:event', for SEC(\"tp/<category>/<event>\")), id and field count."
        " Narrow with 'category' (e.g. 'sched', 'syscalls') and 'pattern' (substring of the"
        " name). 'include_fields' adds each record's fields, 'include_format' the raw format"
        " text; get_tracepoint gives one in full." + _PAGED,
        q.ListTracepoints,
        r.TracepointPage,
    ),
    ToolSpec(
        "list_kernel_functions",
        "List kernel functions",
        "List kernel functions (text symbols of /proc/kallsyms) with address, module and"
        " symbol type: check a name exists before a kprobe/fentry program. Narrow with"
        " 'pattern'; 'include_clones' (foo.isra.0), 'has_btf', and 'attachable' (kprobe,"
        " kretprobe, fentry, fexit: drops what cannot attach, gives verdicts) filter."
        " get_kernel_function gives one in depth." + _PAGED,
        q.ListKernelFunctions,
        r.KernelFunctionPage,
    ),
    ToolSpec(
        "get_btf_types",
        "Search kernel BTF types",
        "Search the named types of the kernel's BTF (vmlinux and modules): id, kind, size,"
        " member count, object. Narrow with 'pattern' ('match': substring, exact, glob)"
        " and 'kind'; 'include_members' adds member names. describe_btf_type gives one in"
        " full. Finds exact names, and whether a function has BTF (fentry needs it)." + _PAGED,
        q.GetBtfTypes,
        r.BtfTypePage,
    ),
    ToolSpec(
        "describe_btf_type",
        "Describe one kernel BTF type",
        "Decode one BTF type by exact name, as pahole: a struct's members with C type,"
        " offsets, sizes, bitfields and holes (paged: member_offset, member_limit), an"
        " enum's values (paged likewise), a typedef's chain, a function's prototype and"
        " decl tags. 'c' (the C definition) is null when long unless 'include_c'. 'kind'"
        " or 'object' picks among types sharing a name; a miss suggests close names.",
        q.DescribeBtfType,
        r.BtfTypeDescription,
    ),
    ToolSpec(
        "generate_c_header",
        "Generate a C header from kernel BTF",
        "Write a self-contained C header for up to 64 BTF types and all they hold by"
        " value, in dependency order, forward-declaring what is only pointed to; it"
        " compiles with clang -target bpf and keeps the kernel's layout (instead of a whole"
        " vmlinux.h). Long headers come in parts (at most 'max_bytes'): pass 'next_offset'"
        " as 'offset' and concatenate.",
        q.GenerateCHeader,
        r.CHeader,
    ),
    ToolSpec(
        "list_bpf_program_types",
        "List BPF program types",
        "List the BPF program types of the running kernel (enum bpf_prog_type): value,"
        " one-line description, whether this kernel was built with it ('compiled_in') and"
        " the context types its programs see. Narrow with 'pattern'. 'source' says whether"
        " the list came from the kernel's BTF or the built-in table." + _PAGED,
        q.ListBpfProgramTypes,
        r.ProgramTypePage,
    ),
    ToolSpec(
        "list_bpf_map_types",
        "List BPF map types",
        "List the BPF map types of the running kernel (enum bpf_map_type), each with its"
        " value and a one-line description, to choose one (hash, array, ringbuf...) or check"
        " that this kernel has it. Narrow with 'pattern'. 'source' says whether the list"
        " came from the kernel's BTF or the built-in table." + _PAGED,
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
        " 'sched:sched_switch'): id, fields with C types and typedefs resolved through BTF,"
        " how to read __data_loc fields, the print format, a C struct of the record for a"
        ' SEC("tp/...") program, and the typed arguments of the raw tracepoint for'
        " tp_btf/raw_tp programs. Unknown names get near matches.",
        q.GetTracepoint,
        r.TracepointDetail,
    ),
    ToolSpec(
        "list_raw_tracepoints",
        "List typed raw tracepoints",
        "List the raw tracepoints the kernel's BTF types (btf_trace_<name> typedefs), each"
        ' with a SEC("tp_btf/...") program head showing its argument types, and the tracefs'
        " event of the same name if any. Narrow with 'pattern'. 'include_args' adds the"
        " arguments as a list." + _PAGED,
        q.ListRawTracepoints,
        r.RawTracepointPage,
    ),
    ToolSpec(
        "get_kernel_function",
        "Can I attach to this kernel function?",
        "For one kernel function name: its /proc/kallsyms symbols and compiler clones with"
        " addresses and text area, its BTF prototype, and a verdict for kprobe, kretprobe,"
        " fentry and fexit (yes, no or unknown) with the reasons read from this kernel"
        " (kprobe blacklist, notrace, __init, noinstr, clones only, no BTF...) and what"
        " would settle an unknown. Use it before writing a kprobe or fentry program.",
        q.GetKernelFunction,
        r.KernelFunctionDetail,
    ),
    ToolSpec(
        "list_kfuncs",
        "List BPF kfuncs",
        "List the kernel functions BPF programs may call directly (kfuncs: BTF FUNCs tagged"
        " bpf_kfunc), each with its C prototype. Narrow with 'pattern' (e.g. 'dynptr',"
        " 'task', 'cpumask'). 'include_params' adds each parameter with its annotation"
        " (__sz, __k, __nullable, __uninit, __str, __opt...) explained." + _PAGED,
        q.ListKfuncs,
        r.KfuncPage,
    ),
    ToolSpec(
        "list_bpf_helpers",
        "List BPF helpers",
        "List the BPF helper functions of the running kernel (enum bpf_func_id): id,"
        " one-line description and argument names from BTF, to check that a helper exists"
        " here and what it is for. Narrow with 'pattern' (e.g. 'ringbuf', 'probe_read')." + _PAGED,
        q.ListBpfHelpers,
        r.BpfHelperPage,
    ),
    ToolSpec(
        "list_bpf_attach_types",
        "List BPF attach and link types",
        "List the running kernel's enum bpf_attach_type (cgroup hooks, fentry/fexit, LSM,"
        " tcx, netfilter...) then enum bpf_link_type, each with its value and a one-line"
        " description. Narrow with 'pattern'." + _PAGED,
        q.ListBpfAttachTypes,
        r.AttachTypePage,
    ),
    ToolSpec(
        "list_bpf_hooks",
        "List BPF LSM hooks, iterators and struct_ops",
        "List where this kernel's BTF lets attach-by-type programs attach: LSM hooks"
        ' (SEC("lsm/<hook>"); notes say whether BPF LSM is active), iterator targets'
        " (SEC(\"iter/<target>\")) and struct_ops types. Narrow with 'kind' (lsm, iterator,"
        " struct_ops) and 'pattern'. 'include_details' adds LSM prototypes, iterator"
        " context fields and struct_ops operations." + _PAGED,
        q.ListBpfHooks,
        r.BpfHookPage,
    ),
    ToolSpec(
        "check_bpf_object",
        "Will this BPF object load here?",
        "Check a compiled BPF object (clang -target bpf -g) against this kernel without"
        " loading it: per program, the type libbpf gives its section, its attach target,"
        " every CO-RE relocation as libbpf resolves it, helpers, kfuncs, externs and maps,"
        " with a yes/no/unknown verdict and reasons (the verifier is not predicted). Call"
        " it after every build.",
        q.CheckBpfObject,
        r.BpfObjectCheck,
    ),
    ToolSpec(
        "check_bpftrace_script",
        "Will this bpftrace script attach here?",
        "Check each probe of a bpftrace script against this kernel without running it:"
        " attach verdicts for kprobe and fentry targets, tracepoints and iterators looked"
        " up, wildcards expanded, every args.x checked against the probe's fields; a"
        " verdict with reasons per probe.",
        q.CheckBpftraceScript,
        r.BpftraceCheck,
    ),
    ToolSpec(
        "get_kernel_info",
        "Kernel facts for BPF",
        "What the running kernel was built with and allows for BPF: release, arch, BTF,"
        " tracefs/debugfs/securityfs mounts, sysctls (unprivileged_bpf_disabled, JIT,"
        " kptr_restrict, perf_event_paranoid), lockdown, active LSMs, this process's"
        " capabilities, and whether kprobes, fentry/fexit and BPF LSM work here."
        " 'sections' adds the long parts: config (BPF config flags explained), files"
        " (every file read, or why not, with the fix), sources.",
        q.GetKernelInfo,
        r.KernelInfo,
    ),
    ToolSpec(
        "list_loaded_bpf",
        "List loaded BPF programs, maps, links",
        "List the BPF objects loaded in the running kernel now, read-only (as bpftool"
        " prog/map/link/btf show): 'kind' programs (default), maps, links (with attach"
        " point) or btf; lean items with owners and pins. Narrow with 'pattern' (name, type,"
        " attach point, process, pin); get_loaded_bpf gives one in full. Needs"
        " CAP_SYS_ADMIN (the answer says so otherwise)." + _PAGED,
        q.ListLoadedBpf,
        r.LoadedBpfPage,
        per_kernel=False,
    ),
    ToolSpec(
        "get_loaded_bpf",
        "Describe one loaded BPF object",
        "One loaded BPF object in full, by 'kind' and 'id': a program's maps, links, BTF"
        " function names, attach target, verified instructions, JITed size, run stats,"
        " owners and pins (no instruction dumps); a map's sizes, flags and users; a link's"
        " program and attach point; a BTF object's users.",
        q.GetLoadedBpf,
        r.LoadedBpfObject,
        per_kernel=False,
    ),
    ToolSpec(
        "list_kernels",
        "List the kernels served",
        "List the kernels this server answers for: 'local' (the running one) and any"
        " registered with --kernel (captured snapshots, sysroots, bare BTF files), with"
        " release, which sources each has, and whether it is loaded. Pass a name as"
        " 'kernel' to the other tools to ask about that kernel.",
        q.ListKernels,
        r.KernelList,
        per_kernel=False,
    ),
    ToolSpec(
        "compare_kernels",
        "Compare two kernels",
        "What differs between kernels 'a' and 'b' (names from list_kernels): 'what' types"
        " (structs and unions: members added, removed, moved or retyped with both offsets;"
        " enums: values), functions (added, removed, prototype changed, only compiler"
        " clones) or tracepoints (fields). Counts first, then the changes. Narrow with"
        " 'pattern', 'kind' and 'change' before paging." + _PAGED,
        q.CompareKernels,
        rc.KernelComparison,
        per_kernel=False,
    ),
    ToolSpec(
        "compare_type_across",
        "One type across kernels",
        "One type or function ('name') in several kernels side by side: one row per member,"
        " enum value or parameter, one column per kernel (type, offset, size), and which"
        " rows differ ('only_differences' keeps those). Use it to write portable CO-RE code."
        + _PAGED,
        q.CompareTypeAcross,
        rc.SideBySide,
        per_kernel=False,
    ),
)

TOOLS_BY_NAME: dict[str, ToolSpec] = {t.name: t for t in TOOLS}
