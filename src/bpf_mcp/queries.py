"""Typed queries: the arguments of each tool, validated, as frozen values.

Each query class is also the tool's input schema (see `schema.py`): field metadata carries
the description and bounds, and attrs validators enforce the same bounds when a query is
built from a tool call's arguments.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Generic, Literal, TypeVar

import attrs

from . import results as r
from . import results_compare as rc
from .sources import Source

R = TypeVar("R", covariant=True)


class Query(Generic[R]):
    """A question for the router whose answer is an `R`.

    Class attributes say what answering takes: `needs` are the sources it cannot be
    answered without (the router waits for them); `prefers` are sources it uses when they
    are ready (waited for on their first load only); `uncached` answers are computed anew
    each time (they read the clock or the statuses).
    """

    __slots__ = ()

    needs: ClassVar[frozenset[Source]] = frozenset()
    prefers: ClassVar[frozenset[Source]] = frozenset()
    uncached: ClassVar[bool] = False

    def preferred(self) -> frozenset[Source]:
        """The sources this query uses when they are ready (by default, `prefers`)."""
        return type(self).prefers


MAX_LIMIT = 1000
MAX_COMPARED = 16
MAX_KERNEL_NAME = 64
_KERNEL_NAME = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{MAX_KERNEL_NAME - 1}}}\Z")
KERNEL_NAME_RULE = f"1-{MAX_KERNEL_NAME} letters, digits, '.', '_' or '-'"
"""What a kernel name may be (`local`, or a name given with --kernel NAME=PATH)."""


def is_kernel_name(value: object) -> bool:
    """Whether `value` is a string a kernel can be named."""
    return isinstance(value, str) and _KERNEL_NAME.match(value) is not None


def _kernel_name(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not is_kernel_name(value):
        raise ValueError(
            f"{attribute.name}: a kernel name is {KERNEL_NAME_RULE} (list_kernels names them)"
        )


def _kernel_field(what: str) -> Any:
    return attrs.field(
        validator=_kernel_name,
        metadata=_doc(what, minLength=1, maxLength=MAX_KERNEL_NAME),
    )


def _kernels_field(what: str, *, minimum: int = 0) -> Any:
    """A list of kernel names; optional (empty by default) unless `minimum` is given."""
    bounds = {"minItems": minimum} if minimum else {}
    default: Any = attrs.NOTHING if minimum else ()
    return attrs.field(
        default=default,
        validator=[
            attrs.validators.min_len(minimum),
            attrs.validators.max_len(MAX_COMPARED),
            attrs.validators.deep_iterable(_kernel_name),
        ],
        metadata=_doc(
            what,
            **bounds,
            maxItems=MAX_COMPARED,
            items={"minLength": 1, "maxLength": MAX_KERNEL_NAME},
        ),
    )


MAX_PATTERN = 256


def _doc(text: str, **bounds: Any) -> dict[str, Any]:
    return {"description": text, **bounds}


def _no_nul(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, str) and "\x00" in value:
        raise ValueError(f"{attribute.name} must not contain a NUL character")


_TEXT_BOUNDS: Any = attrs.validators.and_(
    attrs.validators.min_len(1), attrs.validators.max_len(MAX_PATTERN)
)


def _each_name(_inst: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """One entry of a list of names: 1-MAX_PATTERN characters, no NUL."""
    if isinstance(value, str) and not 1 <= len(value) <= MAX_PATTERN:
        raise ValueError(
            f"each entry of {attribute.name} must be 1-{MAX_PATTERN} characters long,"
            f" not {len(value)}"
        )
    _no_nul(_inst, attribute, value)


_KIND_BOUNDS: Any = [attrs.validators.min_len(1), attrs.validators.max_len(32), _no_nul]


def _pattern_field(what: str) -> Any:
    return attrs.field(
        default=None,
        validator=attrs.validators.optional([_TEXT_BOUNDS, _no_nul]),
        metadata=_doc(
            f"Case-insensitive substring of {what}.",
            minLength=1,
            maxLength=MAX_PATTERN,
        ),
    )


def _limit_field(default: int = 100) -> Any:
    return attrs.field(
        default=default,
        validator=[attrs.validators.ge(1), attrs.validators.le(MAX_LIMIT)],
        metadata=_doc(
            "Most items to return.",
            minimum=1,
            maximum=MAX_LIMIT,
        ),
    )


def _flag(text: str) -> Any:
    return attrs.field(default=False, metadata=_doc(text))


def _offset_field(
    text: str = "Pass the previous next_offset.",
) -> Any:
    return attrs.field(
        default=0,
        validator=[attrs.validators.ge(0), attrs.validators.le(10_000_000)],
        metadata=_doc(
            text,
            minimum=0,
            maximum=10_000_000,
        ),
    )


@attrs.frozen
class ListTracepoints(Query[r.TracepointPage]):
    """Tracepoints from tracefs, filtered by category and/or name."""

    needs: ClassVar[frozenset[Source]] = frozenset({Source.TRACEFS})

    category: str | None = attrs.field(
        default=None,
        validator=attrs.validators.optional([_TEXT_BOUNDS, _no_nul]),
        metadata=_doc(
            "Case-insensitive substring of the category (the part before ':', e.g. 'sched').",
            minLength=1,
            maxLength=MAX_PATTERN,
        ),
    )
    pattern: str | None = _pattern_field("the full name 'category:event'")
    limit: int = _limit_field(40)
    offset: int = _offset_field()
    include_fields: bool = _flag("Also return each event's record fields (get_tracepoint: one).")
    include_format: bool = _flag("Also return each event's raw format file text (~1.5 KB each).")


@attrs.frozen
class ListKernelFunctions(Query[r.KernelFunctionPage]):
    """Text symbols of /proc/kallsyms, filtered by name."""

    needs: ClassVar[frozenset[Source]] = frozenset({Source.KALLSYMS})

    pattern: str | None = _pattern_field("the function name")
    limit: int = _limit_field(50)
    offset: int = _offset_field()
    include_padding: bool = attrs.field(
        default=False,
        metadata=_doc("Also list the '__pfx_' padding symbols the compiler adds before functions."),
    )
    has_btf: bool | None = attrs.field(
        default=None,
        metadata=_doc(
            "true: only functions with a BTF prototype (fentry/fexit need one); false: only"
            " those without."
        ),
    )
    attachable: Literal["kprobe", "kretprobe", "fentry", "fexit"] | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(
            attrs.validators.in_(("kprobe", "kretprobe", "fentry", "fexit"))
        ),
        metadata=_doc("Drop functions this mechanism cannot attach to; items carry the verdict."),
    )
    include_clones: bool = attrs.field(
        default=True,
        metadata=_doc("List compiler clones ('foo.isra.0', 'foo.cold') too."),
    )

    def preferred(self) -> frozenset[Source]:
        """The sources worth waiting for: only those the filters asked for read them."""
        wanted = set()
        if self.has_btf is not None or self.attachable in ("fentry", "fexit"):
            wanted.add(Source.BTF)
        if self.attachable is not None:
            wanted.add(Source.SYSTEM)
        return frozenset(wanted)


@attrs.frozen
class GetBtfTypes(Query[r.BtfTypePage]):
    """Named types of the kernel's BTF, filtered by name and kind."""

    needs: ClassVar[frozenset[Source]] = frozenset({Source.BTF})

    pattern: str | None = attrs.field(
        default=None,
        validator=attrs.validators.optional([_TEXT_BOUNDS, _no_nul]),
        metadata=_doc(
            "The name, as 'match' says (e.g. 'sock', 'bpf_*_ops').",
            minLength=1,
            maxLength=MAX_PATTERN,
        ),
    )
    kind: str | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(_KIND_BOUNDS),
        metadata=_doc(
            "Only this BTF kind (struct, union, enum, typedef, func, var, ...).",
            minLength=1,
            maxLength=32,
        ),
    )
    match: Literal["substring", "exact", "glob"] = attrs.field(
        default="substring",
        validator=attrs.validators.in_(("substring", "exact", "glob")),
        metadata=_doc(
            "How 'pattern' matches: 'substring' (default), 'exact' or 'glob' (* ? [abc])."
        ),
    )
    case_sensitive: bool = attrs.field(
        default=False, metadata=_doc("Match letter case exactly (default: ignore case).")
    )
    limit: int = _limit_field(50)
    offset: int = _offset_field()
    include_members: bool = _flag("Also return the member names of structs and unions.")


@attrs.frozen
class ListBpfProgramTypes(Query[r.ProgramTypePage]):
    """Values of the kernel's `enum bpf_prog_type`."""

    needs: ClassVar[frozenset[Source]] = frozenset({Source.REFERENCE})
    prefers: ClassVar[frozenset[Source]] = frozenset({Source.BTF})

    pattern: str | None = _pattern_field("the program type name (e.g. 'kprobe', 'xdp')")
    limit: int = _limit_field(25)
    offset: int = _offset_field()


@attrs.frozen
class ListBpfMapTypes(Query[r.EnumPage]):
    """Values of the kernel's `enum bpf_map_type`."""

    needs: ClassVar[frozenset[Source]] = frozenset({Source.REFERENCE})
    prefers: ClassVar[frozenset[Source]] = frozenset({Source.BTF})

    pattern: str | None = _pattern_field("the map type name (e.g. 'hash', 'ringbuf')")
    limit: int = _limit_field()
    offset: int = _offset_field()


@attrs.frozen
class GetServerStatus(Query[r.ServerStatus]):
    """The state of every source."""

    needs: ClassVar[frozenset[Source]] = frozenset()


@attrs.frozen
class CompleteNames(Query[r.Completions]):
    """Names starting with `prefix` for a completion request (not a tool).

    `what` is one of btf_kind, btf_name, kfunc, tracepoint_category, tracepoint_event,
    tracepoint, function; `context` carries the other arguments already given (e.g. the
    kind of a BTF name, the category of an event). Never waits for a loading source: it
    suggests nothing from a source that is not ready.
    """

    needs: ClassVar[frozenset[Source]] = frozenset()

    what: str
    prefix: str = attrs.field(validator=attrs.validators.max_len(MAX_PATTERN))
    context: tuple[tuple[str, str], ...] = ()


# -- attach points and catalogues ---------------------------------------------------------

MAX_NAME = 512


def _name_field(what: str, example: str) -> Any:
    return attrs.field(
        validator=attrs.validators.and_(
            attrs.validators.min_len(1), attrs.validators.max_len(MAX_NAME), _no_nul
        ),
        metadata=_doc(f"{what}, e.g. '{example}'.", minLength=1, maxLength=MAX_NAME),
    )


@attrs.frozen
class GetTracepoint(Query[r.TracepointDetail]):
    """One tracepoint in full: fields, context struct, raw tracepoint arguments."""

    needs: ClassVar[frozenset[Source]] = frozenset({Source.TRACEFS})
    prefers: ClassVar[frozenset[Source]] = frozenset({Source.BTF})

    name: str = _name_field("The tracepoint as 'category:event'", "sched:sched_switch")


@attrs.frozen
class ListRawTracepoints(Query[r.RawTracepointPage]):
    """The typed raw tracepoints (`btf_trace_*` typedefs) of the kernel's BTF."""

    needs: ClassVar[frozenset[Source]] = frozenset({Source.BTF})
    prefers: ClassVar[frozenset[Source]] = frozenset({Source.TRACEFS})

    pattern: str | None = _pattern_field("the tracepoint name (e.g. 'sched_switch')")
    limit: int = _limit_field(20)
    offset: int = _offset_field()
    include_args: bool = _flag("Also return each one's typed arguments as a list.")


@attrs.frozen
class GetKernelFunction(Query[r.KernelFunctionDetail]):
    """One kernel function: its symbols and clones, prototype and attach verdicts."""

    needs: ClassVar[frozenset[Source]] = frozenset({Source.KALLSYMS})
    prefers: ClassVar[frozenset[Source]] = frozenset({Source.BTF, Source.SYSTEM})

    name: str = _name_field("The function's name as kallsyms or BTF spell it", "vfs_read")


@attrs.frozen
class ListKfuncs(Query[r.KfuncPage]):
    """Functions BPF programs may call: FUNCs tagged `bpf_kfunc` in the kernel's BTF."""

    needs: ClassVar[frozenset[Source]] = frozenset({Source.BTF, Source.REFERENCE})

    pattern: str | None = _pattern_field("the kfunc name (e.g. 'dynptr', 'task')")
    limit: int = _limit_field(35)
    offset: int = _offset_field()
    include_params: bool = _flag("Also return each parameter with its annotation explained.")


@attrs.frozen
class ListBpfHelpers(Query[r.BpfHelperPage]):
    """The BPF helper functions (`enum bpf_func_id`)."""

    needs: ClassVar[frozenset[Source]] = frozenset({Source.REFERENCE})
    prefers: ClassVar[frozenset[Source]] = frozenset({Source.BTF})

    pattern: str | None = _pattern_field("the helper name (e.g. 'ringbuf', 'probe_read')")
    limit: int = _limit_field(30)
    offset: int = _offset_field()


@attrs.frozen
class ListBpfAttachTypes(Query[r.AttachTypePage]):
    """Values of `enum bpf_attach_type` and `enum bpf_link_type`."""

    needs: ClassVar[frozenset[Source]] = frozenset({Source.REFERENCE})
    prefers: ClassVar[frozenset[Source]] = frozenset({Source.BTF})

    pattern: str | None = _pattern_field("the enumerator (e.g. 'cgroup', 'TRACE')")
    limit: int = _limit_field(40)
    offset: int = _offset_field()


HookKind = Literal["lsm", "iterator", "struct_ops"]


@attrs.frozen
class ListBpfHooks(Query[r.BpfHookPage]):
    """LSM hooks, BPF iterator targets and struct_ops types of the kernel's BTF."""

    needs: ClassVar[frozenset[Source]] = frozenset({Source.BTF})
    prefers: ClassVar[frozenset[Source]] = frozenset({Source.SYSTEM})

    kind: HookKind | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(
            attrs.validators.in_(("lsm", "iterator", "struct_ops"))
        ),
        metadata=_doc("Only hooks of this kind: lsm, iterator or struct_ops."),
    )
    pattern: str | None = _pattern_field("the hook name (e.g. 'file_open', 'task')")
    limit: int = _limit_field(40)
    offset: int = _offset_field()
    include_details: bool = _flag("Also return LSM prototypes, iterator and struct_ops members.")


INFO_SECTIONS = ("config", "files", "sources", "all")


def _section(_inst: object, _attribute: attrs.Attribute[Any], value: object) -> None:
    if value not in INFO_SECTIONS:
        shown = repr(value)[:40]
        raise ValueError(
            f"each entry of sections must be one of {', '.join(INFO_SECTIONS)}, not {shown}"
        )


@attrs.frozen
class GetKernelInfo(Query[r.KernelInfo]):
    """What the kernel was built with and allows, and what bpf-mcp can read of it."""

    needs: ClassVar[frozenset[Source]] = frozenset({Source.SYSTEM})
    prefers: ClassVar[frozenset[Source]] = frozenset({Source.REFERENCE, Source.BTF})
    # Its answer carries data ages, which a remembered answer would freeze.
    uncached: ClassVar[bool] = True

    sections: tuple[str, ...] = attrs.field(
        default=(),
        validator=attrs.validators.deep_iterable(
            member_validator=_section,
            iterable_validator=attrs.validators.max_len(len(INFO_SECTIONS)),
        ),
        metadata=_doc(
            "Long parts to include: config (BPF config flags), files (every file read),"
            " sources (loader status), or all. Left out, they are null and counted.",
            maxItems=len(INFO_SECTIONS),
            items={"enum": list(INFO_SECTIONS)},
        ),
    )

    def wants(self, section: str) -> bool:
        """Whether the answer includes `section`."""
        return section in self.sections or "all" in self.sections


# -- BTF types in depth ---------------------------------------------------------------------

MAX_HEADER_TYPES = 64
HEADER_PAGE_BYTES = 6 * 1024
MAX_HEADER_PAGE_BYTES = 24 * 1024


def _type_name_field(what: str) -> Any:
    return attrs.field(
        validator=[_TEXT_BOUNDS, _no_nul],
        metadata=_doc(what, minLength=1, maxLength=MAX_PATTERN),
    )


def _count_field(what: str, default: int, most: int) -> Any:
    return attrs.field(
        default=default,
        validator=[attrs.validators.ge(1), attrs.validators.le(most)],
        metadata=_doc(f"Most {what} to return.", minimum=1, maximum=most),
    )


@attrs.frozen
class DescribeBtfType(Query[r.BtfTypeDescription]):
    """One BTF type fully decoded: layout, values, prototype, C definition."""

    needs: ClassVar[frozenset[Source]] = frozenset({Source.BTF})

    name: str = _type_name_field(
        "The exact name ('task_struct', 'pid_t'); 'struct sock' picks the kind too."
    )
    kind: str | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(_KIND_BOUNDS),
        metadata=_doc(
            "Which type when several share the name (struct, typedef, func...).",
            minLength=1,
            maxLength=32,
        ),
    )
    object: str | None = attrs.field(
        default=None,
        validator=attrs.validators.optional([_TEXT_BOUNDS, _no_nul]),
        metadata=_doc(
            "BTF object: 'vmlinux' or a module (default: all, vmlinux first).",
            minLength=1,
            maxLength=MAX_PATTERN,
        ),
    )
    member_offset: int = _offset_field("Members to skip; pass next_member_offset.")
    member_limit: int = _count_field("members", 32, MAX_LIMIT)
    value_offset: int = _offset_field("Enum values to skip; pass next_value_offset.")
    value_limit: int = _count_field("enum values", 200, 10_000)
    include_c: bool = _flag("Return the C definition even when it is long.")


@attrs.frozen
class GenerateCHeader(Query[r.CHeader]):
    """A self-contained C header for some BTF types and what they need."""

    needs: ClassVar[frozenset[Source]] = frozenset({Source.BTF})

    names: tuple[str, ...] = attrs.field(
        validator=attrs.validators.deep_iterable(
            member_validator=_each_name,
            iterable_validator=[
                attrs.validators.min_len(1),
                attrs.validators.max_len(MAX_HEADER_TYPES),
            ],
        ),
        metadata=_doc(
            f"Names of the types to define (1-{MAX_HEADER_TYPES}): structs, unions, enums,"
            " typedefs or functions, e.g. ['task_struct', 'sk_buff']; 'struct sock' picks"
            " the kind.",
            minItems=1,
            maxItems=MAX_HEADER_TYPES,
            items={"minLength": 1, "maxLength": MAX_PATTERN},
        ),
    )
    offset: int = attrs.field(
        default=0,
        validator=[attrs.validators.ge(0), attrs.validators.le(1_000_000)],
        metadata=_doc(
            "Definitions to skip: pass the previous answer's next_offset to continue a long"
            " header.",
            minimum=0,
            maximum=1_000_000,
        ),
    )
    max_bytes: int = attrs.field(
        default=HEADER_PAGE_BYTES,
        validator=[attrs.validators.ge(1024), attrs.validators.le(MAX_HEADER_PAGE_BYTES)],
        metadata=_doc(
            f"Most header bytes per answer (1024-{MAX_HEADER_PAGE_BYTES}); cut between"
            " definitions.",
            minimum=1024,
            maximum=MAX_HEADER_PAGE_BYTES,
        ),
    )


# -- loaded BPF objects -------------------------------------------------------------------

LoadedKind = Literal["programs", "maps", "links", "btf"]
LOADED_KINDS: tuple[LoadedKind, ...] = ("programs", "maps", "links", "btf")
MAX_OBJECT_ID = 2**31 - 1


@attrs.frozen
class ListLoadedBpf(Query[r.LoadedBpfPage]):
    """The BPF objects loaded in the running kernel, of one kind, filtered by text."""

    needs: ClassVar[frozenset[Source]] = frozenset({Source.LOADED})
    prefers: ClassVar[frozenset[Source]] = frozenset({Source.BTF})
    # Its answer carries the scan's age, which a remembered answer would freeze.
    uncached: ClassVar[bool] = True

    kind: LoadedKind = attrs.field(
        default="programs",
        validator=attrs.validators.in_(LOADED_KINDS),
        metadata=_doc("Which objects: programs (default), maps, links or btf."),
    )
    pattern: str | None = _pattern_field(
        "the name, type, attach point (links), owning process name or pinned path"
    )
    limit: int = _limit_field(30)
    offset: int = _offset_field()


@attrs.frozen
class GetLoadedBpf(Query[r.LoadedBpfObject]):
    """One loaded BPF object in full, by kind and id."""

    needs: ClassVar[frozenset[Source]] = frozenset({Source.LOADED})
    prefers: ClassVar[frozenset[Source]] = frozenset({Source.BTF})
    uncached: ClassVar[bool] = True

    kind: LoadedKind = attrs.field(
        validator=attrs.validators.in_(LOADED_KINDS),
        metadata=_doc("The object's kind: programs, maps, links or btf."),
    )
    id: int = attrs.field(
        validator=[attrs.validators.ge(1), attrs.validators.le(MAX_OBJECT_ID)],
        metadata=_doc(
            "Its id (as list_loaded_bpf and bpftool show it).", minimum=1, maximum=MAX_OBJECT_ID
        ),
    )


# -- kernels ----------------------------------------------------------------------------------


@attrs.frozen
class ListKernels(Query[r.KernelList]):
    """The kernels this server answers for (answered by the handle, not a router)."""


@attrs.frozen
class CompareKernels(Query[rc.KernelComparison]):
    """What differs between two kernels (answered by the handle over both kernels'
    indexes)."""

    a: str = _kernel_field("Kernel compared from (list_kernels).")
    b: str = _kernel_field("Kernel compared to.")
    what: Literal["types", "functions", "tracepoints"] = attrs.field(
        default="types",
        validator=attrs.validators.in_(("types", "functions", "tracepoints")),
        metadata=_doc("types (structs, unions, enums, typedefs), functions or tracepoints."),
    )
    pattern: str | None = _pattern_field("the name")
    kind: str | None = attrs.field(
        default=None,
        validator=attrs.validators.optional([_TEXT_BOUNDS, _no_nul]),
        metadata=_doc(
            "types: one BTF kind.",
            minLength=1,
            maxLength=MAX_PATTERN,
        ),
    )
    change: str | None = attrs.field(
        default=None,
        validator=attrs.validators.optional([_TEXT_BOUNDS, _no_nul]),
        metadata=_doc(
            "Only this change (added, removed, changed, prototype, clones).",
            minLength=1,
            maxLength=MAX_PATTERN,
        ),
    )
    limit: int = _limit_field(50)
    offset: int = _offset_field()


@attrs.frozen
class CompareTypeAcross(Query[rc.SideBySide]):
    """One type or function across kernels, side by side (answered by the handle)."""

    kernels: tuple[str, ...] = _kernels_field(
        "The kernels, in column order (names from list_kernels).", minimum=2
    )
    name: str = _name_field("A type or function name", "task_struct")
    kind: str | None = attrs.field(
        default=None,
        validator=attrs.validators.optional([_TEXT_BOUNDS, _no_nul]),
        metadata=_doc(
            "Pick the type of this BTF kind when several share the name.",
            minLength=1,
            maxLength=MAX_PATTERN,
        ),
    )
    only_differences: bool = attrs.field(
        default=False, metadata=_doc("Keep only the rows that differ between the kernels.")
    )
    limit: int = _limit_field(40)
    offset: int = _offset_field()


MAX_OBJECT_BYTES = 16 * 1024 * 1024
MAX_OBJECT_BASE64 = (MAX_OBJECT_BYTES + 2) // 3 * 4
MAX_PATH = 4096
_PATH_BOUNDS: Any = [attrs.validators.min_len(1), attrs.validators.max_len(MAX_PATH), _no_nul]


def _one_object(inst: CheckBpfObject, _attribute: attrs.Attribute[Any], _value: object) -> None:
    if inst.data_base64 is None and inst.path is None:
        raise ValueError("give data_base64 (the object's bytes) or path")


@attrs.frozen
class CheckBpfObject(Query[r.BpfObjectCheck]):
    """Will this compiled BPF object load (and attach) on this kernel? Checked offline.

    `path` is read by the transport (any local file over stdio, only below --object-dir
    over HTTP) and handed on as `data_base64`, with `path` kept as the object's name.
    """

    needs: ClassVar[frozenset[Source]] = frozenset({Source.BTF})
    prefers: ClassVar[frozenset[Source]] = frozenset(
        {Source.TRACEFS, Source.KALLSYMS, Source.SYSTEM}
    )
    uncached: ClassVar[bool] = True

    data_base64: str | None = attrs.field(
        default=None,
        validator=attrs.validators.optional(attrs.validators.max_len(MAX_OBJECT_BASE64)),
        metadata=_doc(
            "The object file, base64 (at most 16 MiB).",
            maxLength=MAX_OBJECT_BASE64,
        ),
    )
    path: str | None = attrs.field(
        default=None,
        validator=[
            attrs.validators.optional(_PATH_BOUNDS),
            _one_object,
        ],
        metadata=_doc(
            "The object file's path on the server (HTTP: only below --object-dir).",
            minLength=1,
            maxLength=MAX_PATH,
        ),
    )
    kernels: tuple[str, ...] = _kernels_field("Also check these kernels ('across').")
    relocations: Literal["problems", "all"] = attrs.field(
        default="problems",
        metadata=_doc("Relocations listed per program: 'problems' or 'all' (counts always)."),
    )


MAX_SCRIPT = 64 * 1024
_SCRIPT_BOUNDS: Any = [attrs.validators.min_len(1), attrs.validators.max_len(MAX_SCRIPT), _no_nul]


@attrs.frozen
class CheckBpftraceScript(Query[r.BpftraceCheck]):
    """Will each probe of this bpftrace script attach here, and do the `args` fields it
    reads exist? Nothing is run."""

    prefers: ClassVar[frozenset[Source]] = frozenset(
        {Source.TRACEFS, Source.KALLSYMS, Source.BTF, Source.SYSTEM}
    )

    script: str = attrs.field(
        validator=_SCRIPT_BOUNDS,
        metadata=_doc(
            "The bpftrace program text, at most 64 KiB.",
            minLength=1,
            maxLength=MAX_SCRIPT,
        ),
    )
    kernels: tuple[str, ...] = _kernels_field("Also check these kernels ('across').")
