"""Longer, seeded runs of the parser fuzz properties the test suite runs briefly: mutated
BTF, tracefs format files and available_events, and kallsyms text may be refused only with
the parser's own error (BtfError, FormatError, KallsymsError). Also fuzzes every tool's
arguments in process (Hypothesis-generated JSON) through the transports' call boundary:
an answer may be isError, but never an internal error or an exception.

    python scripts/fuzz_parsers.py [--examples 5000] [--seed 1] [--only btf,tracefs,...]

The properties and strategies are the ones the test suite runs (from bpf_mcp.testing.btf,
.tracefs and .kallsyms), here with more examples and a fixed seed, so the two cannot
drift apart.
Every property runs and says how many examples it ran; a falsified one prints Hypothesis's
shrunk example and traceback, and the run then exits 1.
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hypothesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpf_mcp.testing import btf, kallsyms, tracefs

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "fixtures" / "linux-6.18"
TRACING = FIXTURE / "sys" / "kernel" / "tracing"
VMLINUX = [FIXTURE / "sys/kernel/btf/vmlinux", Path("/sys/kernel/btf/vmlinux")]


def parser_targets() -> dict[str, list[tuple[str, Callable[..., None], dict[str, Any]]]]:
    """Each family's properties: (name, property function, its strategies by argument)."""
    seeds = btf.Seeds.read(REPO / "fixtures" / "btf", VMLINUX)
    formats = tracefs.format_samples(TRACING)
    events = tracefs.events_sample(TRACING)
    sample = kallsyms.sample((FIXTURE / "proc" / "kallsyms").read_text())

    def mutated_btf(seed: str, mutations: list[btf.Mutation]) -> None:
        btf.parse_mutated_and_exercise(seeds, seed, mutations)

    def mutated_kallsyms(text: str, first_line: int) -> None:
        kallsyms.only_kallsyms_error_escapes(text, first_line)

    def kallsyms_splits(cuts: list[int]) -> None:
        kallsyms.splits_concatenate_to_the_whole(sample, cuts)

    seed = st.sampled_from(btf.SEED_NAMES)
    return {
        "btf": [
            (
                "mutated blobs",
                mutated_btf,
                {"seed": seed, "mutations": st.lists(btf.MUTATIONS, min_size=1, max_size=6)},
            ),
            (
                "mutated type records",
                mutated_btf,
                {
                    "seed": seed,
                    "mutations": st.lists(btf.TYPE_WORD_MUTATIONS, min_size=1, max_size=5),
                },
            ),
        ],
        "tracefs": [
            (
                "mutated format files",
                tracefs.format_refused_only_with_format_error,
                {"text": tracefs.mutated(formats)},
            ),
            (
                "mutated available_events",
                tracefs.events_refused_only_with_format_error,
                {"text": tracefs.mutated([events])},
            ),
            (
                "arbitrary text as a format file",
                tracefs.format_refused_only_with_format_error,
                {"text": st.text(st.one_of(tracefs.PUNCTUATION, st.characters()), max_size=2000)},
            ),
        ],
        "kallsyms": [
            (
                "mutated kallsyms",
                mutated_kallsyms,
                {"text": kallsyms.mutated(sample), "first_line": st.integers(1, 10**6)},
            ),
            (
                "splits at line boundaries",
                kallsyms_splits,
                {"cuts": st.lists(st.integers(0, len(sample.splitlines())), max_size=12)},
            ),
        ],
    }


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=300),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=20), children, max_size=5)
    ),
    max_leaves=20,
)


class Count:
    """How many examples a property was run with (Hypothesis may stop short of
    max_examples when a strategy has fewer distinct values), and whether one falsified it."""

    calls = 0
    failed = False


def counted(function: Callable[..., None], count: Count) -> Callable[..., None]:
    """`function`, with the same signature, counting its calls in `count`."""

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> None:
        count.calls += 1
        function(*args, **kwargs)

    return run


def fuzz_tools(examples: int, seed: int, count: Count) -> None:
    """Hypothesis-generated arguments for every tool, through `call_tool`, in one server
    over the fixture kernel (driven from a worker thread into the trio loop), counting the
    calls in `count`."""
    import trio

    from bpf_mcp.api import open_bpf_mcp
    from bpf_mcp.config import Config
    from bpf_mcp.tools import TOOLS
    from bpf_mcp.transports.server import call_tool

    names = [tool.name for tool in TOOLS]
    keys: dict[str, list[str]] = {
        tool.name: list(tool.input_schema().get("properties", {})) for tool in TOOLS
    }

    def arguments_for(name: str) -> st.SearchStrategy[Any]:
        known = keys[name]
        named = st.dictionaries(st.sampled_from(known), JSON, max_size=4) if known else st.just({})
        return st.one_of(named, named, JSON)

    async def main() -> None:
        config = Config(sysroot=FIXTURE, load_wait=60.0)
        async with open_bpf_mcp(config) as handle:

            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @hypothesis.seed(seed)
            @given(data=st.data())
            def property(data: st.DataObject) -> None:
                count.calls += 1
                name = data.draw(st.sampled_from(names), label="tool")
                arguments = data.draw(arguments_for(name), label="arguments")
                result = trio.from_thread.run(call_tool, handle, name, arguments)
                text = "".join(getattr(block, "text", "") for block in result.content)
                assert "Internal error" not in text, text
                assert "Traceback" not in text, text
                if result.is_error:
                    assert text and len(text) < 4000, text[:300]

            await trio.to_thread.run_sync(property)

    trio.run(main)


def _run(family: str, name: str, asked: int, property: Callable[[Count], None]) -> Count:
    """Run one property, print how many examples it took and whether it held; a falsified
    property prints Hypothesis's shrunk example and traceback instead of stopping the rest."""
    started = time.monotonic()
    count = Count()
    try:
        property(count)
    except Exception as exc:
        count.failed = True
        verdict = "FALSIFIED"
        shown = "".join(traceback.format_exception(exc))
    else:
        verdict, shown = "ok", ""
    print(
        f"{family:<9} {name:<34} {count.calls} examples {verdict} (of {asked} asked)"
        f" in {time.monotonic() - started:.1f} s",
        flush=True,
    )
    if shown:
        print(shown, file=sys.stderr, flush=True)
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=5000, help="examples per property")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--only", default="btf,tracefs,kallsyms,tools")
    args = parser.parse_args()
    chosen = set(args.only.split(","))
    targets = parser_targets()
    counts: list[Count] = []
    for family in ("btf", "tracefs", "kallsyms"):
        if family not in chosen:
            continue
        for name, function, strategies in targets[family]:

            def property(
                count: Count, function: Any = function, strategies: Any = strategies
            ) -> None:
                settings(
                    max_examples=args.examples,
                    deadline=None,
                    database=None,
                    derandomize=False,
                    suppress_health_check=list(HealthCheck),
                )(hypothesis.seed(args.seed)(given(**strategies)(counted(function, count))))()

            counts.append(_run(family, name, args.examples, property))
    if "tools" in chosen:

        def tools(count: Count) -> None:
            fuzz_tools(args.examples, args.seed, count)

        counts.append(_run("tools", "random arguments, every tool", args.examples, tools))
    total = sum(c.calls for c in counts)
    falsified = sum(c.failed for c in counts)
    if falsified:
        print(
            f"{falsified} propert{'ies' if falsified > 1 else 'y'} falsified ({total} examples run)"
        )
        return 1
    print(f"all properties held ({total} examples run, seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
