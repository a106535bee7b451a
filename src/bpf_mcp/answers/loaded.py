"""list_loaded_bpf and get_loaded_bpf: the kernel's loaded BPF objects from the last scan,
lean in lists and whole for one object."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from ..btf import BtfError
from ..errors import NotFound
from ..index import LoadedIndex, View
from ..loaded import BtfObject, Kind, Link, LinkTarget, LoadedBpf, Map, Owner, Program
from ..queries import GetLoadedBpf, ListLoadedBpf
from ..results import (
    LeftOutInfo,
    LoadedBpfObject,
    LoadedBpfPage,
    LoadedBtf,
    LoadedBtfItem,
    LoadedLink,
    LoadedLinkItem,
    LoadedLinkTarget,
    LoadedMap,
    LoadedMapItem,
    LoadedOwner,
    LoadedProgram,
    LoadedProgramItem,
    LoadedRef,
)
from .listing import iso_utc
from .paging import page, substring_matcher

STATS_OFF = (
    "run_time_ns and run_cnt are null: kernel.bpf_stats_enabled is 0, so the kernel counts"
    " nothing (`sysctl -w kernel.bpf_stats_enabled=1` turns counting on, at a small cost"
    " per program run)."
)
STATS_UNKNOWN = (
    "run_time_ns and run_cnt are null: kernel.bpf_stats_enabled could not be read, so"
    " whether the kernel counts runs is unknown."
)
NO_BTF_NAMES = (
    "the kernel's BTF is not loaded yet (or failed), so functions that tracing programs and"
    " links attach to are shown by BTF id"
)


def _owners(owners: tuple[Owner, ...]) -> tuple[str, ...]:
    return tuple(f"{o.comm}[{o.pid}]" for o in owners)


def _stats(value: int, scan: LoadedBpf) -> int | None:
    return value if scan.stats_enabled else None


def _btf_name(view: View, loaded: LoadedIndex, obj_id: int | None, type_id: int | None) -> str:
    """The name of a kernel BTF type (vmlinux or a module) from the BTF source, or ''."""
    btf_index = view.indexes.btf
    if not type_id or btf_index is None:
        return ""
    obj = loaded.btf.get(obj_id or 0)
    wanted = obj.name if obj is not None and obj.kernel else "vmlinux" if not obj_id else None
    for btf in btf_index.objects:
        if btf.object_name == wanted:
            try:
                return btf.name(type_id)
            except BtfError:
                return ""
    return ""


def _attach_to(view: View, loaded: LoadedIndex, prog: Program) -> str | None:
    if prog.attach_func:
        return prog.attach_func
    if not prog.attach_btf_id:
        return None
    name = _btf_name(view, loaded, prog.attach_btf_obj_id, prog.attach_btf_id)
    return name or f"BTF type {prog.attach_btf_id} of BTF object {prog.attach_btf_obj_id}"


def _resolved(view: View, loaded: LoadedIndex, target: LinkTarget) -> LinkTarget:
    if target.name or not target.btf_type_id:
        return target
    name = _btf_name(view, loaded, target.btf_obj_id, target.btf_type_id)
    return attrs.evolve(target, name=name) if name else target


def describe_target(t: LinkTarget) -> str:
    """A link's attach point in a few words, e.g. 'tracepoint sched_switch',
    'netdev eth0 (ifindex 2)', 'cgroup /sys/fs/cgroup/app'."""
    words = [t.kind]
    if t.name:
        words.append(t.name)
    if t.offset:
        words[-1] += f"+{t.offset:#x}"
    numbers = [
        (label, value)
        for label, value in (
            ("ifindex", t.ifindex),
            ("cgroup id", t.cgroup_id if not t.name else None),
            ("map", t.map_id),
            ("BTF type", t.btf_type_id if not t.name else None),
            ("netns inode", t.netns_ino),
            ("pid", t.pid),
            ("count", t.count),
        )
        if value
    ]
    if numbers:
        words.append("(" + ", ".join(f"{label} {value}" for label, value in numbers) + ")")
    if t.detail:
        words.append(t.detail)
    return " ".join(words)


def _program_item(p: Program, scan: LoadedBpf) -> LoadedProgramItem:
    return LoadedProgramItem(
        id=p.id,
        name=p.name,
        type=p.type,
        tag=p.tag,
        loaded_at=iso_utc(p.loaded_at) if p.loaded_at is not None else None,
        btf_id=p.btf_id or None,
        memlock=p.memlock,
        run_time_ns=_stats(p.run_time_ns, scan),
        run_cnt=_stats(p.run_cnt, scan),
        owners=_owners(p.owners),
        pins=p.pins,
    )


def _map_item(m: Map) -> LoadedMapItem:
    return LoadedMapItem(
        id=m.id,
        name=m.name,
        type=m.type,
        key_size=m.key_size,
        value_size=m.value_size,
        max_entries=m.max_entries,
        memlock=m.memlock,
        btf_id=m.btf_id or None,
        owners=_owners(m.owners),
        pins=m.pins,
    )


def _link_item(lk: Link, target: LinkTarget) -> LoadedLinkItem:
    return LoadedLinkItem(
        id=lk.id,
        type=lk.type,
        prog_id=lk.prog_id,
        attach_type=lk.attach_type or None,
        target=describe_target(target),
        owners=_owners(lk.owners),
        pins=lk.pins,
    )


def _btf_item(b: BtfObject) -> LoadedBtfItem:
    return LoadedBtfItem(
        id=b.id,
        name=b.name,
        size=b.size,
        kernel=b.kernel,
        prog_ids=b.prog_ids,
        map_ids=b.map_ids,
        owners=_owners(b.owners),
    )


Item = LoadedProgramItem | LoadedMapItem | LoadedLinkItem | LoadedBtfItem


def _items(kind: Kind, view: View, loaded: LoadedIndex) -> list[tuple[Item, tuple[str, ...]]]:
    """Every item of `kind` with the texts a pattern is matched against."""
    scan = loaded.scan
    match kind:
        case Kind.PROGRAMS:
            return [
                (_program_item(p, scan), (p.name, p.type, *_owners(p.owners), *p.pins))
                for p in scan.programs
            ]
        case Kind.MAPS:
            return [
                (_map_item(m), (m.name, m.type, *_owners(m.owners), *m.pins)) for m in scan.maps
            ]
        case Kind.LINKS:
            out: list[tuple[Item, tuple[str, ...]]] = []
            for lk in scan.links:
                item = _link_item(lk, _resolved(view, loaded, lk.target))
                out.append((item, (lk.type, lk.attach_type, item.target, *item.owners, *lk.pins)))
            return out
        case Kind.BTF:
            return [(_btf_item(b), (b.name, *_owners(b.owners))) for b in scan.btf]


def _notes(kind: Kind, view: View, scan: LoadedBpf) -> tuple[str, ...]:
    notes = list(scan.notes)
    if kind is Kind.PROGRAMS and scan.programs and not scan.stats_enabled:
        notes.append(STATS_OFF if scan.stats_enabled is False else STATS_UNKNOWN)
    tracing = any(p.attach_btf_id and not p.attach_func for p in scan.programs) or any(
        lk.target.btf_type_id and not lk.target.name for lk in scan.links
    )
    if kind in (Kind.PROGRAMS, Kind.LINKS) and tracing and view.indexes.btf is None:
        notes.append(NO_BTF_NAMES)
    return tuple(notes)


def _age(scan: LoadedBpf, now: float) -> float:
    return round(max(0.0, now - scan.captured_at), 3)


def list_loaded_bpf(query: ListLoadedBpf, view: View, now: float) -> LoadedBpfPage:
    loaded = view.loaded
    kind = Kind(query.kind)
    rows = _items(kind, view, loaded)
    match = substring_matcher(query.pattern)
    if match is not None:
        rows = [row for row in rows if any(match(text) for text in row[1] if text)]
    shown, w = page([item for item, _ in rows], query.offset, query.limit)
    scan = loaded.scan
    return LoadedBpfPage(
        kind=kind.value,
        items=tuple(shown),
        total=w.total,
        offset=w.start,
        next_offset=w.next_offset,
        scanned_at=iso_utc(scan.captured_at),
        data_age_seconds=_age(scan, now),
        stats_enabled=scan.stats_enabled,
        left_out=tuple(LeftOutInfo(x.kind, x.reason, x.count) for x in scan.left_out),
        notes=_notes(kind, view, scan),
    )


def _ref_program(loaded: LoadedIndex, ident: int) -> LoadedRef | None:
    p = loaded.programs.get(ident)
    return LoadedRef(p.id, p.name, p.type) if p is not None else None


def _ref_map(loaded: LoadedIndex, ident: int) -> LoadedRef | None:
    m = loaded.maps.get(ident)
    return LoadedRef(m.id, m.name, m.type) if m is not None else None


def _refs(ids: Sequence[int], find: Callable[[int], LoadedRef | None]) -> tuple[LoadedRef, ...]:
    return tuple(ref for ref in map(find, ids) if ref is not None)


def _full_owners(owners: tuple[Owner, ...]) -> tuple[LoadedOwner, ...]:
    return tuple(LoadedOwner(o.pid, o.comm) for o in owners)


def _program(view: View, loaded: LoadedIndex, p: Program) -> LoadedProgram:
    scan = loaded.scan

    def link_ref(ident: int) -> LoadedRef | None:
        lk = loaded.links.get(ident)
        if lk is None:
            return None
        return LoadedRef(lk.id, describe_target(_resolved(view, loaded, lk.target)), lk.type)

    return LoadedProgram(
        id=p.id,
        name=p.name,
        type=p.type,
        tag=p.tag,
        gpl_compatible=p.gpl_compatible,
        loaded_at=iso_utc(p.loaded_at) if p.loaded_at is not None else None,
        created_by_uid=p.created_by_uid,
        btf_id=p.btf_id or None,
        functions=p.func_names,
        maps=_refs(p.map_ids, lambda i: _ref_map(loaded, i)),
        links=_refs(loaded.links_of_program.get(p.id, ()), link_ref),
        attach_to=_attach_to(view, loaded, p),
        verified_insns=p.verified_insns,
        xlated_bytes=p.xlated_len,
        jited_bytes=p.jited_len,
        memlock=p.memlock,
        run_time_ns=_stats(p.run_time_ns, scan),
        run_cnt=_stats(p.run_cnt, scan),
        recursion_misses=_stats(p.recursion_misses, scan),
        owners=_full_owners(p.owners),
        pins=p.pins,
    )


def _map(loaded: LoadedIndex, m: Map) -> LoadedMap:
    return LoadedMap(
        id=m.id,
        name=m.name,
        type=m.type,
        key_size=m.key_size,
        value_size=m.value_size,
        max_entries=m.max_entries,
        flags=m.flags,
        map_extra=m.map_extra,
        frozen=m.frozen,
        memlock=m.memlock,
        btf_id=m.btf_id or None,
        btf_key_type_id=m.btf_key_type_id or None,
        btf_value_type_id=m.btf_value_type_id or None,
        used_by=_refs(loaded.programs_of_map.get(m.id, ()), lambda i: _ref_program(loaded, i)),
        owners=_full_owners(m.owners),
        pins=m.pins,
    )


def _link(view: View, loaded: LoadedIndex, lk: Link) -> LoadedLink:
    t = _resolved(view, loaded, lk.target)
    return LoadedLink(
        id=lk.id,
        type=lk.type,
        attach_type=lk.attach_type or None,
        program=_ref_program(loaded, lk.prog_id),
        target=LoadedLinkTarget(**attrs.asdict(t, recurse=False)),
        owners=_full_owners(lk.owners),
        pins=lk.pins,
    )


def _btf(loaded: LoadedIndex, b: BtfObject) -> LoadedBtf:
    return LoadedBtf(
        id=b.id,
        name=b.name,
        size=b.size,
        kernel=b.kernel,
        programs=_refs(b.prog_ids, lambda i: _ref_program(loaded, i)),
        maps=_refs(b.map_ids, lambda i: _ref_map(loaded, i)),
        owners=_full_owners(b.owners),
    )


def _not_found(kind: Kind, ident: int, loaded: LoadedIndex) -> NotFound:
    ids = loaded.scan.ids(kind)
    shown = ", ".join(map(str, ids[:12])) + (", ..." if len(ids) > 12 else "")
    singular = {"programs": "program", "maps": "map", "links": "link", "btf": "BTF object"}
    listing = f"the loaded ids are {shown}" if ids else "none are loaded"
    return NotFound(
        f"No {singular[kind.value]} with id {ident} was loaded at the last scan; {listing}"
        f" (list_loaded_bpf with kind '{kind.value}' lists what is)."
    )


def get_loaded_bpf(query: GetLoadedBpf, view: View, now: float) -> LoadedBpfObject:
    loaded = view.loaded
    kind = Kind(query.kind)
    program = map_ = link = btf = None
    match kind:
        case Kind.PROGRAMS if (p := loaded.programs.get(query.id)) is not None:
            program = _program(view, loaded, p)
        case Kind.MAPS if (m := loaded.maps.get(query.id)) is not None:
            map_ = _map(loaded, m)
        case Kind.LINKS if (lk := loaded.links.get(query.id)) is not None:
            link = _link(view, loaded, lk)
        case Kind.BTF if (b := loaded.btf.get(query.id)) is not None:
            btf = _btf(loaded, b)
        case _:
            raise _not_found(kind, query.id, loaded)
    scan = loaded.scan
    return LoadedBpfObject(
        kind=kind.value,
        program=program,
        map=map_,
        link=link,
        btf=btf,
        scanned_at=iso_utc(scan.captured_at),
        data_age_seconds=_age(scan, now),
        notes=_notes(kind, view, scan),
    )
