"""check_bpftrace_script: each probe of a bpftrace script against this kernel, not run.

kprobes and fentry/fexit get the function attach verdicts; tracepoints, raw tracepoints
and iterators are looked up in tracefs and BTF; wildcards are expanded (a count and the
first matches); every `args.x` a block reads is checked against its probe's fields.
User-space probes are `unknown`: binaries are not read.
"""

from __future__ import annotations

import bisect
import fnmatch
import re
from collections.abc import Sequence

import attrs

from ..bpftrace import BpftraceError, ProbeSpec, parse_script
from ..btf import Btf, Kind
from ..errors import InvalidArgument
from ..index import View
from ..queries import CheckBpftraceScript
from ..results import BpftraceArg, BpftraceCheck, BpftraceProbe, Mechanism, Verdict
from ..sources import Source
from .attach import decide, kernel_findings, verdicts
from .functions import function_facts
from .origins import origin

__all__ = ["check_bpftrace_script"]

FIRST = 10
OUTSIDE = (
    "Not run: bpftrace's own parsing and type checks, the verifier, the privileges it needs"
    " (root), and whether every match of a wildcard attaches (bpftrace skips some) are not"
    " checked."
)
_WILD = re.compile(r"[*?\[]")
_SOFTWARE = frozenset(
    {
        "cpu-clock", "cpu", "task-clock", "page-faults", "faults", "context-switches", "cs",
        "cpu-migrations", "minor-faults", "major-faults", "alignment-faults",
        "emulation-faults", "dummy", "bpf-output",
    }
)  # fmt: skip
_HARDWARE = frozenset(
    {
        "cpu-cycles", "cycles", "instructions", "cache-references", "cache-misses",
        "branch-instructions", "branches", "branch-misses", "bus-cycles", "frontend-stalls",
        "backend-stalls", "ref-cycles",
    }
)  # fmt: skip
_UNITS = {"profile": ("hz", "s", "ms", "us"), "interval": ("s", "ms", "us", "hz")}
_ORDER = {"no": 0, "unknown": 1, "yes": 2}


@attrs.frozen
class _Outcome:
    verdict: Verdict
    reasons: tuple[str, ...] = ()
    matches: int | None = None
    first: tuple[str, ...] = ()
    fields: frozenset[str] | None = None
    """The names `args` may read here; None when not known (or not applicable)."""
    per_match: tuple[tuple[str, frozenset[str]], ...] = ()
    """For a wildcard tracepoint, each match's fields (a field must be in all)."""
    args_note: str = ""


def check_bpftrace_script(query: CheckBpftraceScript, view: View) -> BpftraceCheck:
    """Each probe of the query's script, checked. InvalidArgument when the script's
    structure cannot be read (an unclosed block, string or comment)."""
    try:
        specs = parse_script(query.script)
    except BpftraceError as err:
        raise InvalidArgument(f"script: {err}") from None
    checker = _Checker(view)
    probes = tuple(checker.probe(spec) for spec in specs)
    verdict: Verdict = min((p.verdict for p in probes), key=_ORDER.__getitem__, default="yes")
    return BpftraceCheck(verdict, len(probes), probes, OUTSIDE, _source(view))


def _source(view: View) -> str:
    parts = []
    for source in (Source.TRACEFS, Source.KALLSYMS, Source.BTF, Source.SYSTEM):
        loaded = getattr(view.indexes, source.value) is not None
        parts.append(f"{source.value} {origin(view, source) if loaded else '(not loaded)'}")
    return "; ".join(parts)


def _glob(names: Sequence[str], pattern: str) -> list[str]:
    """The names of sorted `names` matching shell pattern `pattern`, in order."""
    literal = _WILD.split(pattern, 1)[0]
    start = bisect.bisect_left(names, literal)
    found = []
    for name in names[start:]:
        if not name.startswith(literal):
            break
        if fnmatch.fnmatchcase(name, pattern):
            found.append(name)
    return found


def _params(btf: Btf, proto: int) -> list[str]:
    return [p.name for p in btf.params(proto) if p.name]


class _Checker:
    def __init__(self, view: View) -> None:
        self.view = view
        self.system = view.indexes.system
        self.kernel = kernel_findings(self.system)

    def probe(self, spec: ProbeSpec) -> BpftraceProbe:
        outcome = self._outcome(spec)
        args = tuple(self._arg(spec, outcome, name) for name in spec.args)
        verdict = outcome.verdict
        if any(a.verdict == "no" for a in args):
            verdict = "no"
        elif verdict == "yes" and any(a.verdict == "unknown" for a in args):
            verdict = "unknown"
        return BpftraceProbe(
            spec.text,
            spec.provider or "unknown",
            spec.line,
            verdict,
            outcome.reasons,
            outcome.matches,
            outcome.first,
            args,
        )

    def _arg(self, spec: ProbeSpec, outcome: _Outcome, name: str) -> BpftraceArg:
        if outcome.args_note:
            return BpftraceArg(name, "no", outcome.args_note)
        if outcome.fields is None:
            return BpftraceArg(name, "unknown", "the probe's fields are not known here")
        if name in outcome.fields:
            return BpftraceArg(name, "yes", f"{spec.text} has {name}")
        lacking = [match for match, fields in outcome.per_match if name not in fields]
        if outcome.per_match and len(lacking) < len(outcome.per_match):
            return BpftraceArg(
                name,
                "no",
                f"{len(lacking)} of the {len(outcome.per_match)} matching tracepoints have no"
                f" field {name} (e.g. {lacking[0]}); bpftrace compiles the block for each",
            )
        shown = ", ".join(sorted(outcome.fields)[:12]) or "none"
        return BpftraceArg(name, "no", f"{spec.text} has no field {name} (it has: {shown})")

    def _outcome(self, spec: ProbeSpec) -> _Outcome:
        provider, target = spec.provider, spec.target
        if provider in ("BEGIN", "END", "self"):
            return _Outcome("yes", ("runs in bpftrace itself, no kernel attach point",))
        if provider in ("kprobe", "kretprobe"):
            return self._function(provider, target, "kprobe")
        if provider in ("fentry", "fexit"):
            return self._function(provider, target, "fentry")
        if provider == "tracepoint":
            return self._tracepoint(target)
        if provider == "rawtracepoint":
            return self._raw_tracepoint(target)
        if provider in ("uprobe", "uretprobe", "usdt"):
            return _Outcome("unknown", ("a user-space probe: binaries are not read here",))
        if provider in ("software", "hardware"):
            return self._perf(provider, target)
        if provider in ("profile", "interval"):
            return self._timer(provider, target)
        if provider == "iter":
            return self._iter(target)
        if provider in ("watchpoint", "asyncwatchpoint"):
            return _Outcome("unknown", ("hardware watchpoints are not checked here",))
        head = spec.text.partition(":")[0]
        return _Outcome("no", (f"bpftrace has no probe type {head!r}",))

    # -- kernel functions -----------------------------------------------------------------

    def _function(self, provider: str, target: tuple[str, ...], family: str) -> _Outcome:
        if not target or not target[-1]:
            return _Outcome("no", ("no function named",))
        name = target[-1].split("+", 1)[0]
        kallsyms = self.view.indexes.kallsyms
        kprobe_args = (
            "kprobes have no args; read arg0, arg1... or use fentry:, which has typed args"
            if family == "kprobe"
            else ""
        )
        if _WILD.search(name):
            if kallsyms is None:
                return _Outcome("unknown", ("kallsyms is not loaded",), args_note=kprobe_args)
            found = _glob(kallsyms.unique_names, name)
            kernel = decide("kprobe" if family == "kprobe" else "fentry", self.kernel[family])
            if not found:
                return _Outcome("no", (f"no kernel function matches {name}",), 0)
            reasons = (f"{len(found)} kernel functions match {name}", *kernel.reasons)
            verdict: Verdict = "yes" if kernel.verdict == "yes" else kernel.verdict
            return _Outcome(
                verdict, reasons, len(found), tuple(found[:FIRST]), args_note=kprobe_args
            )
        if kallsyms is None:
            return _Outcome("unknown", ("kallsyms is not loaded",), args_note=kprobe_args)
        mechanisms: dict[str, Mechanism] = {
            "kprobe": "kprobe",
            "kretprobe": "kretprobe",
            "fentry": "fentry",
            "fexit": "fexit",
        }
        mechanism = mechanisms[provider]
        (judged,) = verdicts(
            function_facts(self.view, name), self.system, (mechanism,), self.kernel
        )
        fields = None
        if family == "fentry":
            fields = self._function_fields(name, fexit=provider == "fexit")
        return _Outcome(judged.verdict, judged.reasons, fields=fields, args_note=kprobe_args)

    def _function_fields(self, name: str, *, fexit: bool) -> frozenset[str] | None:
        btf_index = self.view.indexes.btf
        if btf_index is None:
            return None
        btf = btf_index.btf
        func = next((t for t in btf.find(name) if btf.kind(t) is Kind.FUNC), None)
        if func is None:
            return frozenset()
        names = _params(btf, btf.ref(func))
        return frozenset([*names, "retval"] if fexit else names)

    # -- tracepoints ----------------------------------------------------------------------

    def _tracepoint(self, target: tuple[str, ...]) -> _Outcome:
        tracefs = self.view.indexes.tracefs
        if len(target) != 2:
            return _Outcome("no", ("a tracepoint is tracepoint:category:name",))
        if tracefs is None:
            return _Outcome("unknown", ("tracefs is not loaded",))
        name = ":".join(target)
        if not _WILD.search(name):
            record = tracefs.by_name.get(name)
            if record is None:
                return _Outcome("no", (f"this kernel has no tracepoint {name}",))
            fields = frozenset(f.name for f in record.format.fields if not f.common)
            return _Outcome("yes", (f"tracepoint {name} exists",), fields=fields)
        found = [n for n in tracefs.names if fnmatch.fnmatchcase(n, name)]
        if not found:
            return _Outcome("no", (f"no tracepoint matches {name}",), 0)
        # Every match must have a field the block reads: bpftrace compiles it for each.
        per_match = tuple(
            (match, frozenset(f.name for f in tracefs.by_name[match].format.fields if not f.common))
            for match in found
        )
        shared = frozenset.intersection(*(fields for _, fields in per_match))
        reasons = (f"{len(found)} tracepoints match {name}",)
        return _Outcome(
            "yes", reasons, len(found), tuple(found[:FIRST]), shared, per_match=per_match
        )

    def _raw_tracepoint(self, target: tuple[str, ...]) -> _Outcome:
        if not target:
            return _Outcome("no", ("no raw tracepoint named",))
        name = target[-1]
        btf_index = self.view.indexes.btf
        tracefs = self.view.indexes.tracefs
        if btf_index is not None:
            btf = btf_index.btf
            if any(btf.kind(t) is Kind.TYPEDEF for t in btf.find(f"btf_trace_{name}")):
                # The typedef's parameters are unnamed; __bpf_trace_<name> names them.
                func = next(
                    (t for t in btf.find(f"__bpf_trace_{name}") if btf.kind(t) is Kind.FUNC),
                    None,
                )
                fields = frozenset(_params(btf, btf.ref(func))[1:]) if func else None
                reason = f"raw tracepoint {name} (btf_trace_{name})"
                return _Outcome("yes", (reason,), fields=fields)
        if tracefs is not None and any(e == name for e in tracefs.events):
            return _Outcome("yes", (f"tracefs has an event {name}",))
        if btf_index is None or tracefs is None:
            return _Outcome("unknown", ("BTF or tracefs is not loaded",))
        return _Outcome("no", (f"this kernel has no raw tracepoint {name}",))

    def _iter(self, target: tuple[str, ...]) -> _Outcome:
        btf_index = self.view.indexes.btf
        if not target:
            return _Outcome("no", ("no iterator named",))
        if btf_index is None:
            return _Outcome("unknown", ("BTF is not loaded",))
        btf = btf_index.btf
        name = f"bpf_iter_{target[-1]}"
        if any(btf.kind(t) is Kind.FUNC for t in btf.find(name)):
            return _Outcome("yes", (f"the kernel's BTF has {name}",))
        return _Outcome("no", (f"the kernel's BTF has no iterator {name}",))

    # -- perf events and timers -----------------------------------------------------------

    def _perf(self, provider: str, target: tuple[str, ...]) -> _Outcome:
        names = _SOFTWARE if provider == "software" else _HARDWARE
        event = target[0] if target else ""
        if event not in names:
            return _Outcome("no", (f"bpftrace has no {provider} event {event!r}",))
        if provider == "software":
            return _Outcome("yes", (f"the software event {event}",))
        pmus = self.system.pmus if self.system is not None else None
        if pmus is None:
            return _Outcome("unknown", ("the perf event sources were not read",))
        if "cpu" in pmus or "armv8_pmuv3" in pmus:
            return _Outcome("yes", ("a CPU PMU is present (/sys/bus/event_source/devices)",))
        return _Outcome(
            "no", ("no CPU PMU in /sys/bus/event_source/devices: hardware events cannot open",)
        )

    def _timer(self, provider: str, target: tuple[str, ...]) -> _Outcome:
        if len(target) == 1 and target[0].isdigit():
            return _Outcome("yes", (f"every {target[0]} (default unit)",))
        if len(target) != 2 or target[0] not in _UNITS[provider] or not target[1].isdigit():
            units = ", ".join(_UNITS[provider])
            return _Outcome("no", (f"{provider} needs {provider}:UNIT:N with UNIT one of {units}",))
        return _Outcome("yes", (f"every {target[1]} {target[0]}",))
