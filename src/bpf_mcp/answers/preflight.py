"""check_bpf_object: a compiled BPF object checked against the kernel the server reads.

The pure preflight package does the checking; here the server's indexes become its
`KernelFacts`: BTF, config and release, tracefs events, kallsyms names, the function
attach verdicts, kprobe support and whether BPF LSM runs.
"""

from __future__ import annotations

import base64
import binascii
from typing import Literal

import attrs

from .. import preflight as pf
from ..errors import InvalidArgument
from ..index import View
from ..queries import CheckBpfObject
from ..results import BpfObjectCheck, Mechanism, RelocationCounts
from ..sources import Source
from .attach import decide, kernel_findings, verdicts
from .catalog import lsm_availability
from .functions import function_facts
from .origins import origin

__all__ = ["check_bpf_object", "kernel_facts"]


def check_bpf_object(query: CheckBpfObject, view: View) -> BpfObjectCheck:
    """The preflight check of the query's object against `view`'s kernel.

    Raises InvalidArgument for data that is not base64, a query without data (a `path`
    the transport did not read), and objects that are not readable BPF ELF (the error
    names what is wrong and never quotes the file).
    """
    if query.data_base64 is None:
        raise InvalidArgument(
            "path was not read: this caller passes objects by data_base64 only (paths are "
            "read by the stdio and HTTP transports)"
        )
    data = _decode(query.data_base64)
    # Errors about the bytes name where they came from: the path, or the argument.
    name = query.path or "data_base64"
    result = pf.check_object(data, kernel_facts(view), name=name)
    return _shape(result, query.relocations, _sources(view))


def _decode(text: str) -> bytes:
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidArgument(
            "data_base64 is not valid base64 (standard alphabet, with padding)"
        ) from None
    if len(data) > pf.MAX_OBJECT_BYTES:
        raise InvalidArgument(
            f"the object is {len(data):,} bytes; at most {pf.MAX_OBJECT_BYTES:,} are accepted"
        )
    return data


def kernel_facts(view: View) -> pf.KernelFacts:
    """What the server's ready indexes know of the kernel, as preflight reads it."""
    indexes = view.indexes
    system = indexes.system
    tracefs = indexes.tracefs
    kallsyms = indexes.kallsyms
    functions = None
    if kallsyms is not None:
        kernel = kernel_findings(system)

        def function_check(
            name: str, mechanism: Literal["kprobe", "trampoline"]
        ) -> pf.FunctionCheck:
            chosen: Mechanism = "kprobe" if mechanism == "kprobe" else "fentry"
            (verdict,) = verdicts(function_facts(view, name), system, (chosen,), kernel)
            return pf.FunctionCheck(
                verdict.verdict, "; ".join(verdict.reasons), "kallsyms, BTF and system facts"
            )

        functions = function_check
    kprobes = decide("kprobe", kernel_findings(system)["kprobe"]) if system is not None else None
    return pf.KernelFacts(
        btf=view.btf.btf,
        btf_source=origin(view, Source.BTF),
        config=system.config if system is not None else None,
        config_source=(system.config_path or "kernel config") if system is not None else "",
        release=system.release if system is not None else None,
        tracepoints=frozenset(n.replace(":", "/", 1) for n in tracefs.names)
        if tracefs is not None
        else None,
        tracepoints_source=f"tracefs {origin(view, Source.TRACEFS)}",
        functions=functions,
        kprobes=(kprobes.verdict, "; ".join(kprobes.reasons)) if kprobes is not None else None,
        lsm=lsm_availability(system) if system is not None else None,
        symbols=kallsyms.table.names.__contains__ if kallsyms is not None else None,
    )


def _sources(view: View) -> str:
    indexes = view.indexes
    parts = [f"BTF {origin(view, Source.BTF)}"]
    system = indexes.system
    if system is not None:
        parts.append(f"config {system.config_path or '(not readable)'}, LSMs, sysctls")
    for source, index, what in (
        (Source.TRACEFS, indexes.tracefs, "tracepoints"),
        (Source.KALLSYMS, indexes.kallsyms, "symbols and attach verdicts"),
    ):
        if index is not None:
            parts.append(f"{what} from {origin(view, source)}")
    missing = [
        s.value
        for s, i in (
            (Source.SYSTEM, system),
            (Source.TRACEFS, indexes.tracefs),
            (Source.KALLSYMS, indexes.kallsyms),
        )
        if i is None
    ]
    if missing:
        parts.append(f"not loaded: {', '.join(missing)} (answers needing them are unknown)")
    return "; ".join(parts)


def _shape(
    result: pf.ObjectCheck, shown: Literal["problems", "all"], kernel: str
) -> BpfObjectCheck:
    every = [r for p in result.programs for r in p.relocations]
    programs = result.programs
    if shown == "problems":
        programs = tuple(
            attrs.evolve(p, relocations=tuple(r for r in p.relocations if _problem(r)))
            for p in programs
        )
    return BpfObjectCheck(
        object=result.name,
        size=result.size,
        license=result.license,
        verdict=result.verdict,
        verifier=result.outside,
        reasons=result.reasons,
        programs=programs,
        maps=result.maps,
        externs=result.externs,
        relocations=RelocationCounts(
            total=len(every),
            ok=sum(r.status == "ok" for r in every),
            poisoned=sum(r.status == "poisoned" for r in every),
            failed=sum(r.status == "failed" for r in every),
            shown=shown,
        ),
        kernel=kernel,
    )


def _problem(relocation: pf.Relocation) -> bool:
    return not relocation.ok or bool(relocation.sentence)
