"""Pure reading of bpftrace scripts: the probes each action block attaches to, and the
tracepoint or function arguments (`args.x`, `args->x`) the block reads. Nothing is run."""

from __future__ import annotations

from .script import MAX_SCRIPT, PROVIDERS, BpftraceError, ProbeSpec, parse_script

__all__ = ["MAX_SCRIPT", "PROVIDERS", "BpftraceError", "ProbeSpec", "parse_script"]
