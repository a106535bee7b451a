"""What an object needs from the kernel besides its programs: map types, struct_ops
types and externs (kfuncs and variables in `.ksyms`, options in `.kconfig`), each
checked the way libbpf resolves them when it loads the object."""

from __future__ import annotations

from ..btf import Btf, Kind
from .declarations import ExternDecl, MapDecl, StructOpsDecl
from .kernel import KernelFacts, Verdict, kernel_enum
from .model import ExternCheck, MapCheck
from .relations import essential_name, types_compatible
from .targets import func_exists

__all__ = ["check_extern", "check_map", "check_struct_ops", "extern_source"]

# Map types compiled only with some option (include/linux/bpf_types.h).
_MAP_CONFIG = {
    "BPF_MAP_TYPE_CGROUP_ARRAY": "CONFIG_CGROUPS",
    "BPF_MAP_TYPE_CGRP_STORAGE": "CONFIG_CGROUPS",
    "BPF_MAP_TYPE_CGROUP_STORAGE": "CONFIG_CGROUP_BPF",
    "BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE": "CONFIG_CGROUP_BPF",
    "BPF_MAP_TYPE_STACK_TRACE": "CONFIG_PERF_EVENTS",
    "BPF_MAP_TYPE_DEVMAP": "CONFIG_NET",
    "BPF_MAP_TYPE_DEVMAP_HASH": "CONFIG_NET",
    "BPF_MAP_TYPE_SK_STORAGE": "CONFIG_NET",
    "BPF_MAP_TYPE_CPUMAP": "CONFIG_NET",
    "BPF_MAP_TYPE_SOCKMAP": "CONFIG_NET",
    "BPF_MAP_TYPE_SOCKHASH": "CONFIG_NET",
    "BPF_MAP_TYPE_INODE_STORAGE": "CONFIG_BPF_LSM",
    "BPF_MAP_TYPE_XSKMAP": "CONFIG_XDP_SOCKETS",
    "BPF_MAP_TYPE_REUSEPORT_SOCKARRAY": "CONFIG_INET",
    "BPF_MAP_TYPE_STRUCT_OPS": "CONFIG_BPF_JIT",
}
_LIBBPF_KCONFIG = frozenset({"LINUX_HAS_BPF_COOKIE", "LINUX_HAS_SYSCALL_WRAPPER"})
STRUCT_OPS = "BPF_MAP_TYPE_STRUCT_OPS"


def check_map(kernel: KernelFacts, decl: MapDecl) -> MapCheck:
    """Whether this kernel can create a map of `decl`'s type."""
    types = kernel_enum(kernel.btf, "bpf_map_type") or {}
    names = {v: k for k, v in types.items() if not k.startswith("__")}
    constant = names.get(decl.type, "")
    verdict: Verdict = "yes"
    detail = f"{constant} exists in this kernel's enum bpf_map_type"
    option = _MAP_CONFIG.get(constant)
    config = kernel.config
    if not types:
        verdict, detail = "unknown", "the kernel's BTF has no enum bpf_map_type"
    elif decl.type == 0:
        verdict = "no"
        detail = "the map has no type (0, BPF_MAP_TYPE_UNSPEC); set __uint(type, ...)"
    elif not constant:
        verdict = "no"
        detail = (
            f"map type {decl.type} is not in this kernel's enum bpf_map_type (largest "
            f"{max(names)}); map creation fails with EINVAL"
        )
    elif option is not None and config is not None and config.get(option) != "y":
        verdict = "no"
        detail = f"{constant} needs {option}, which this kernel's config does not set"
    shown = constant or str(decl.type)
    return MapCheck(
        decl.name, shown, decl.key_size, decl.value_size, decl.max_entries, verdict, detail
    )


def check_struct_ops(kernel: KernelFacts, decl: StructOpsDecl) -> MapCheck:
    """Whether this kernel takes `decl`'s struct as struct_ops: it needs the struct
    `bpf_struct_ops_<name>` that registering a struct_ops type creates."""
    btf = kernel.btf
    type_name = essential_name(decl.type_name)
    value_type = f"bpf_struct_ops_{type_name}"
    if any(btf.kind(t) is Kind.STRUCT for t in btf.find(value_type)):
        verdict: Verdict = "yes"
        detail = f"struct {value_type} exists: this kernel accepts struct {type_name} ops"
    else:
        verdict = "no"
        detail = (
            f"the kernel's BTF has no struct {value_type}, so it cannot take struct "
            f"{type_name} as struct_ops (not built in, or not a struct_ops type)"
        )
    return MapCheck(decl.name, STRUCT_OPS, 4, None, 1, verdict, detail)


def extern_source(kernel: KernelFacts, kind: str) -> str:
    """The source an extern's verdict rests on."""
    btf = f"kernel BTF ({kernel.btf_source})"
    return {
        "kconfig": f"kernel config ({kernel.config_source})",
        "ksym (untyped)": "/proc/kallsyms",
        "ksym": f"{btf} and /proc/kallsyms",
    }.get(kind, btf)


def check_extern(kernel: KernelFacts, local: Btf, decl: ExternDecl) -> ExternCheck:
    """Whether libbpf can resolve extern `decl` of an object whose BTF is `local`."""
    if decl.section.startswith(".kconfig"):
        kind = "kconfig"
        verdict, detail = _kconfig(kernel, decl)
    elif decl.function:
        kind = "kfunc"
        verdict, detail = _kfunc(kernel, local, decl)
    elif decl.type_id == 0:
        kind = "ksym (untyped)"
        verdict, detail = _untyped_ksym(kernel, decl)
    else:
        kind = "ksym"
        verdict, detail = _typed_ksym(kernel, local, decl)
    return ExternCheck(decl.name, kind, decl.weak, verdict, detail)


def _absent(decl: ExternDecl, what: str) -> tuple[Verdict, str]:
    if decl.weak:
        return "unknown", (
            f"{what}; it is __weak, so libbpf loads the object with it unresolved (0); "
            "code using it must be guarded (bpf_ksym_exists) or be dead"
        )
    return "no", f"{what}; libbpf refuses to load the object (declare it __weak to allow this)"


def _kfunc(kernel: KernelFacts, local: Btf, decl: ExternDecl) -> tuple[Verdict, str]:
    btf = kernel.btf
    name = essential_name(decl.name)
    found = func_exists(btf, name)
    if found is None:
        return _absent(decl, f"the kernel's BTF has no function {name}")
    if types_compatible(local, decl.type_id, btf, btf.ref(found)) <= 0:
        if decl.weak:
            return _absent(decl, f"the kernel's {name} [{found}] has an incompatible prototype")
        return "no", (
            f"the kernel's {name} [{found}] has a prototype incompatible with the object's "
            "declaration (parameter count or kinds differ); libbpf refuses to load the object"
        )
    if not any(tag == "bpf_kfunc" for tag, _ in btf.decl_tags(found)):
        return "unknown", (
            f"the kernel has {name} [{found}], but it is not marked bpf_kfunc: unless it is "
            "registered as a kfunc, the verifier rejects the call"
        )
    return "yes", f"kfunc {name} [{found}] exists with a compatible prototype"


def _typed_ksym(kernel: KernelFacts, local: Btf, decl: ExternDecl) -> tuple[Verdict, str]:
    btf = kernel.btf
    name = decl.name
    found = next((t for t in btf.find(name) if btf.kind(t) is Kind.VAR), None)
    if found is None:
        return _absent(decl, f"the kernel's BTF has no variable {name}")
    if types_compatible(local, decl.type_id, btf, btf.resolve(btf.ref(found))) <= 0:
        return "no", (
            f"the kernel's variable {name} [{found}] has a type incompatible with the "
            "object's declaration; libbpf refuses to load the object"
        )
    what = f"variable {name} [{found}] exists with a compatible type"
    lookup = kernel.symbols
    if lookup is None:
        return "unknown", (
            f"{what}, but whether /proc/kallsyms lists it (the verifier needs its address) "
            "was not checked"
        )
    if not lookup(name):
        return "no", (
            f"{what}, but /proc/kallsyms does not list it (data symbols need "
            "CONFIG_KALLSYMS_ALL), so the verifier cannot find its address"
        )
    return "yes", f"{what} and an address"


def _untyped_ksym(kernel: KernelFacts, decl: ExternDecl) -> tuple[Verdict, str]:
    lookup = kernel.symbols
    name = essential_name(decl.name)
    if lookup is None:
        return "unknown", f"/proc/kallsyms was not read, so {name} cannot be looked up"
    if lookup(name):
        return "yes", f"{name} is in /proc/kallsyms"
    return _absent(decl, f"{name} is not in /proc/kallsyms")


def _kconfig(kernel: KernelFacts, decl: ExternDecl) -> tuple[Verdict, str]:
    name = decl.name
    if name in _LIBBPF_KCONFIG:
        return "yes", f"libbpf works out {name} itself"
    if name == "LINUX_KERNEL_VERSION":
        if kernel.release is None:
            return "yes", "libbpf reads the kernel version at load time"
        return "yes", f"libbpf fills in the version of {kernel.release}"
    if not name.startswith("CONFIG_"):
        return "no", (
            f"{name} is neither a CONFIG_ option nor one libbpf provides; libbpf refuses to "
            "load the object"
        )
    config = kernel.config
    if config is None:
        return "unknown", "the kernel's config was not read"
    value = config.get(name)
    if value is not None:
        return "yes", f"{name}={value}"
    if decl.weak:
        return "yes", f"{name} is not set in this kernel; being __weak, it reads as 0"
    return "no", (
        f"{name} is not set in this kernel's config and the extern is not __weak; libbpf "
        "refuses to load the object"
    )
