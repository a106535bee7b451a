"""Every CO-RE relocation of the corpus, resolved by us and by libbpf itself.

`bpftool -d gen min_core_btf` runs libbpf's CO-RE matching offline and logs, for each
relocation, the object's spec, every candidate (matching or not, with the target spec)
and "no matching targets found". We compare all of it with our own resolution, against
the captured kernel's BTF and, where readable, the running kernel's.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bpf_mcp.btf import Btf, Kind, parse_btf
from bpf_mcp.preflight import (
    CoreOutcome,
    CoreRelo,
    ReloKind,
    Spec,
    read_object,
    resolve_relocations,
)
from bpf_mcp.preflight.btf_ext import parse_btf_ext

from .conftest import FIXTURE_BTF, corpus

pytestmark = pytest.mark.oracle

LIVE_BTF = Path("/sys/kernel/btf/vmlinux")
_LINE = re.compile(r"^libbpf: prog '(?P<sec>[^']*)': relo #(?P<idx>\d+): (?P<rest>.*)$")
_CAND = re.compile(
    r"^(?P<match>matching|non-matching) candidate #\d+ (?P<spec><[^>]+> \[(?P<id>\d+)\].*)$"
)


def _bpftool() -> str:
    tool = shutil.which("bpftool")
    if tool is None:
        pytest.skip("bpftool is not installed")
    probe = subprocess.run([tool, "gen", "help"], capture_output=True, text=True, check=False)
    if "min_core_btf" not in probe.stdout + probe.stderr:
        pytest.skip("this bpftool has no 'gen min_core_btf'")
    return tool


class LibbpfRelo:
    """What libbpf logged for one relocation."""

    def __init__(self) -> None:
        self.local = ""
        self.candidates: list[int] = []
        self.matching: list[tuple[int, str]] = []
        self.none_found = False


def libbpf_log(
    tool: str, btf: Path, obj: Path, tmp: Path
) -> tuple[dict[tuple[str, int], LibbpfRelo], bool]:
    """(section, index) -> what libbpf logged, and whether bpftool finished without error."""
    run = subprocess.run(
        [tool, "-d", "gen", "min_core_btf", str(btf), str(tmp / "min.btf"), str(obj)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    relos: dict[tuple[str, int], LibbpfRelo] = {}
    for line in (run.stdout + run.stderr).splitlines():
        found = _LINE.match(line)
        if not found:
            continue
        relo = relos.setdefault((found["sec"], int(found["idx"])), LibbpfRelo())
        rest = found["rest"]
        cand = _CAND.match(rest)
        if cand:
            relo.candidates.append(int(cand["id"]))
            if cand["match"] == "matching":
                relo.matching.append((int(cand["id"]), cand["spec"]))
        elif rest == "no matching targets found":
            relo.none_found = True
        elif rest.startswith("<"):
            relo.local = rest
    return relos, run.returncode == 0


def format_spec(btf: Btf, kind: ReloKind, spec: Spec) -> str:
    """A spec the way libbpf's bpf_core_format_spec prints it."""
    root = spec.root_type_id
    text = f"<{kind.label}> [{root}] {btf.kind(root).label} {btf.name(root) or '<anon>'}"
    if kind.family == "type":
        return text
    if kind.family == "enumval":
        acc = spec.accessors[0]
        value = btf.enum_values(acc.type_id)[acc.index].value
        return f"{text}::{acc.name} = {value}"
    for i, acc in enumerate(spec.accessors):
        if acc.name is not None:
            text += f".{acc.name}"
        elif i > 0 or acc.index > 0:
            text += f"[{acc.index}]"
    offset = f"{spec.bit_offset // 8}" + (f".{spec.bit_offset % 8}" if spec.bit_offset % 8 else "")
    return f"{text} ({spec.raw_text} @ offset {offset})"


def ours(obj_path: Path, target: Btf) -> tuple[Btf, list[CoreOutcome]]:
    obj = read_object(obj_path.read_bytes(), name=obj_path.name)
    section = obj.section(".BTF")
    assert section is not None
    local = parse_btf(section.data, object_name="object")
    ext_section = obj.section(".BTF.ext")
    if ext_section is None:
        return local, []
    ext = parse_btf_ext(ext_section.data, local, byte_order=obj.byte_order, name=obj_path.name)

    def instruction(relo: CoreRelo) -> bytes | None:
        data = obj.section(relo.section)
        return None if data is None else data.data[relo.insn_off : relo.insn_off + 16]

    return local, resolve_relocations(
        local, ext.core_relos, target, byte_order=obj.byte_order, instruction=instruction
    )


def compare(tool: str, btf_path: Path, target: Btf, obj_path: Path, tmp: Path) -> int:
    """Assert agreement on every relocation of `obj_path`; the number compared."""
    logged, finished = libbpf_log(tool, btf_path, obj_path, tmp)
    local, outcomes = ours(obj_path, target)
    compared = 0
    for outcome in outcomes:
        key = (outcome.section, outcome.index)
        where = f"{obj_path.name} {outcome.section} relo #{outcome.index} ({outcome.access})"
        theirs = logged.get(key)
        if theirs is None:
            # bpftool stops at the first relocation libbpf refuses; ours says failed there.
            assert not finished, f"{where}: libbpf logged nothing"
            break
        assert outcome.local_spec is not None, where
        assert format_spec(local, outcome.kind, outcome.local_spec) == theirs.local, where
        if outcome.kind is ReloKind.TYPE_ID_LOCAL:
            compared += 1
            continue
        assert list(outcome.candidates) == theirs.candidates, where
        assert list(outcome.matched) == [cand for cand, _ in theirs.matching], where
        assert (not outcome.matched) == theirs.none_found, where
        if outcome.target_spec is not None:
            assert (
                format_spec(target, outcome.kind, outcome.target_spec) == theirs.matching[0][1]
            ), where
        compared += 1
    return compared


@pytest.mark.parametrize("obj_path", corpus(), ids=lambda p: p.name)
def test_relocations_match_libbpf_on_captured_kernel(
    obj_path: Path, fixture_btf: Btf, tmp_path: Path
) -> None:
    compare(_bpftool(), FIXTURE_BTF, fixture_btf, obj_path, tmp_path)


@pytest.fixture(scope="module")
def live_btf() -> Btf:
    if not LIVE_BTF.exists():
        pytest.skip(f"{LIVE_BTF} does not exist on this machine")
    return parse_btf(LIVE_BTF.read_bytes())


@pytest.mark.live
@pytest.mark.parametrize("obj_path", corpus(), ids=lambda p: p.name)
def test_relocations_match_libbpf_on_live_kernel(
    obj_path: Path, live_btf: Btf, tmp_path: Path
) -> None:
    compare(_bpftool(), LIVE_BTF, live_btf, obj_path, tmp_path)


def test_corpus_covers_every_relocation_kind(fixture_btf: Btf) -> None:
    kinds: set[ReloKind] = set()
    for obj_path in corpus():
        kinds.update(o.kind for o in ours(obj_path, fixture_btf)[1])
    assert kinds == set(ReloKind), set(ReloKind) - kinds


def test_kind_labels_are_libbpfs() -> None:
    assert Kind.STRUCT.label == "struct"
    assert ReloKind.FIELD_BYTE_OFFSET.label == "byte_off"
