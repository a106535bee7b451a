"""Pure answers: (query, view) -> result value. No I/O, no trio.

`answer` is the one dispatch point: each query class maps to one function over a `View`.
"""

from __future__ import annotations

import time
from typing import Any, TypeVar, cast

from ..index import View
from ..queries import (
    CheckBpfObject,
    CheckBpftraceScript,
    CompleteNames,
    DescribeBtfType,
    GenerateCHeader,
    GetBtfTypes,
    GetKernelFunction,
    GetKernelInfo,
    GetLoadedBpf,
    GetServerStatus,
    GetTracepoint,
    ListBpfAttachTypes,
    ListBpfHelpers,
    ListBpfHooks,
    ListBpfMapTypes,
    ListBpfProgramTypes,
    ListKernelFunctions,
    ListKfuncs,
    ListLoadedBpf,
    ListRawTracepoints,
    ListTracepoints,
    Query,
)
from . import (
    bpftrace,
    btf,
    catalog,
    functions,
    kernel_info,
    listing,
    loaded,
    preflight,
    tracepoints,
)
from .complete import complete

R = TypeVar("R")


def answer(query: Query[R], view: View) -> R:
    """The result of `query` over `view`.

    Raises the project's errors (InvalidArgument, NotFound, SourceUnavailable) for what a
    caller can fix; anything else is a bug. TypeError for a query class it does not know.
    """
    return cast(R, _answer(query, view))


def _answer(query: Query[Any], view: View) -> object:
    match query:
        case ListTracepoints():
            return listing.list_tracepoints(query, view.tracefs)
        case ListKernelFunctions():
            return functions.list_kernel_functions(query, view)
        case GetKernelFunction():
            return functions.get_kernel_function(query, view)
        case GetTracepoint():
            return tracepoints.get_tracepoint(query, view)
        case ListRawTracepoints():
            return tracepoints.list_raw_tracepoints(query, view)
        case ListKfuncs():
            return catalog.list_kfuncs(query, view)
        case ListBpfHelpers():
            return catalog.list_bpf_helpers(query, view)
        case ListBpfAttachTypes():
            return catalog.list_bpf_attach_types(query, view)
        case ListBpfHooks():
            return catalog.list_bpf_hooks(query, view)
        case GetKernelInfo():
            return kernel_info.get_kernel_info(query, view)
        case GetBtfTypes():
            return btf.get_btf_types(query, view.btf)
        case DescribeBtfType():
            return btf.describe_btf_type(query, view.btf)
        case GenerateCHeader():
            return btf.generate_c_header(query, view.btf)
        case ListBpfProgramTypes():
            return catalog.list_bpf_program_types(query, view)
        case ListBpfMapTypes():
            return listing.enum_page(query, view)
        case ListLoadedBpf():
            return loaded.list_loaded_bpf(query, view, time.time())
        case GetLoadedBpf():
            return loaded.get_loaded_bpf(query, view, time.time())
        case GetServerStatus():
            return listing.server_status(view, time.time())
        case CheckBpfObject():
            return preflight.check_bpf_object(query, view)
        case CheckBpftraceScript():
            return bpftrace.check_bpftrace_script(query, view)
        case CompleteNames():
            return complete(query.what, query.prefix, dict(query.context), view.indexes)
    raise TypeError(f"no answer for {type(query).__name__}")


__all__ = ["answer"]
