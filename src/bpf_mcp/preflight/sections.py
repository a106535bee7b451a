"""How libbpf turns an ELF section name into a program type and expected attach type.

libbpf (src/libbpf.c, `section_defs`) tries its rules in order and takes the first that
matches. A rule is a name with one of three forms: the exact name only (`xdp`); the name
alone or followed by `/` and anything (`kprobe` and `kprobe/do_exit`); or the name as a
prefix that needs something after it (`sk_skb/` forms are all spelled out, so this form
only appears in custom rules). Types are the kernel's enum constant names, so a check can
ask the kernel's own BTF whether they exist. A leading `?` (SEC("?xdp")) means the program
is not loaded automatically; the rest of the name is matched as usual.
"""

from __future__ import annotations

import enum

import attrs

__all__ = ["Form", "SectionDef", "Target", "match_section", "SECTION_DEFS"]


class Form(enum.Enum):
    """How a rule's name must match a section name."""

    EXACT = "exact"
    """The section name is the rule's name."""
    OPTIONAL_TARGET = "optional_target"
    """The section name is the rule's name, or it followed by `/` and a target."""


class Target(enum.Enum):
    """What the text after the first `/` names, i.e. where the program attaches."""

    NONE = "none"
    KPROBE = "kprobe"  # function[+offset]
    KSYSCALL = "ksyscall"  # a system call name; libbpf adds the arch prefix
    KPROBE_MULTI = "kprobe_multi"  # a glob of functions
    UPROBE = "uprobe"  # binary:function, user space
    USDT = "usdt"  # binary:provider:name, user space
    TRACEPOINT = "tracepoint"  # category/name
    RAW_TRACEPOINT = "raw_tracepoint"  # name
    TP_BTF = "tp_btf"  # name; libbpf looks up the typedef btf_trace_<name>
    FUNCTION = "function"  # fentry/fexit/fmod_ret: a kernel FUNC in BTF
    FUNCTION_MULTI = "function_multi"  # fentry.multi and friends: a glob of functions
    FREPLACE = "freplace"  # a function of another BPF program
    LSM = "lsm"  # hook; libbpf looks up the FUNC bpf_lsm_<hook>
    ITER = "iter"  # iterator; libbpf looks up the FUNC bpf_iter_<name>
    STRUCT_OPS = "struct_ops"  # a member of a struct_ops map, set through the map


@attrs.frozen
class SectionDef:
    """One libbpf rule: name and form, the program type and expected attach type (enum
    constant names; "" means 0, none), and what libbpf does with it."""

    name: str
    form: Form
    prog_type: str
    attach_type: str
    target: Target = Target.NONE
    sleepable: bool = False
    attach_btf: bool = False
    """libbpf resolves the target in kernel BTF before loading and fails if it is absent."""

    def matches(self, section: str) -> bool:
        """True when this rule applies to `section` (without its leading `?`)."""
        if self.form is Form.EXACT:
            return section == self.name
        if not section.startswith(self.name):
            return False
        rest = section[len(self.name) :]
        return rest == "" or rest.startswith("/")


_E = Form.EXACT
_O = Form.OPTIONAL_TARGET


def _d(
    name: str,
    form: Form,
    prog_type: str,
    attach_type: str = "",
    target: Target = Target.NONE,
    *,
    sleepable: bool = False,
    btf: bool = False,
) -> SectionDef:
    return SectionDef(name, form, f"BPF_PROG_TYPE_{prog_type}", attach_type, target, sleepable, btf)


def _sleepable_pair(
    name: str, prog_type: str, attach_type: str, target: Target, *, btf: bool = False
) -> tuple[SectionDef, SectionDef]:
    """A rule and its `.s` (sleepable) twin, which libbpf lists right after it."""
    return (
        _d(name, _O, prog_type, attach_type, target, btf=btf),
        _d(f"{name}.s", _O, prog_type, attach_type, target, sleepable=True, btf=btf),
    )


_K, _U = Target.KPROBE, Target.UPROBE
_T = Target.TRACEPOINT
_R = Target.RAW_TRACEPOINT
_F = Target.FUNCTION
_FM = Target.FUNCTION_MULTI

# The order is libbpf's: the first matching rule wins.
SECTION_DEFS: tuple[SectionDef, ...] = (
    _d("socket", _E, "SOCKET_FILTER"),
    _d("sk_reuseport/migrate", _E, "SK_REUSEPORT", "BPF_SK_REUSEPORT_SELECT_OR_MIGRATE"),
    _d("sk_reuseport", _E, "SK_REUSEPORT", "BPF_SK_REUSEPORT_SELECT"),
    _d("kprobe", _O, "KPROBE", "", _K),
    *_sleepable_pair("uprobe", "KPROBE", "", _U),
    _d("kretprobe", _O, "KPROBE", "", _K),
    *_sleepable_pair("uretprobe", "KPROBE", "", _U),
    _d("kprobe.multi", _O, "KPROBE", "BPF_TRACE_KPROBE_MULTI", Target.KPROBE_MULTI),
    _d("kretprobe.multi", _O, "KPROBE", "BPF_TRACE_KPROBE_MULTI", Target.KPROBE_MULTI),
    _d("kprobe.session", _O, "KPROBE", "BPF_TRACE_KPROBE_SESSION", Target.KPROBE_MULTI),
    _d("uprobe.multi", _O, "KPROBE", "BPF_TRACE_UPROBE_MULTI", _U),
    _d("uretprobe.multi", _O, "KPROBE", "BPF_TRACE_UPROBE_MULTI", _U),
    _d("uprobe.session", _O, "KPROBE", "BPF_TRACE_UPROBE_SESSION", _U),
    _d("uprobe.multi.s", _O, "KPROBE", "BPF_TRACE_UPROBE_MULTI", _U, sleepable=True),
    _d("uretprobe.multi.s", _O, "KPROBE", "BPF_TRACE_UPROBE_MULTI", _U, sleepable=True),
    _d("uprobe.session.s", _O, "KPROBE", "BPF_TRACE_UPROBE_SESSION", _U, sleepable=True),
    _d("ksyscall", _O, "KPROBE", "", Target.KSYSCALL),
    _d("kretsyscall", _O, "KPROBE", "", Target.KSYSCALL),
    *_sleepable_pair("usdt", "KPROBE", "", Target.USDT),
    _d("tc/ingress", _E, "SCHED_CLS", "BPF_TCX_INGRESS"),
    _d("tc/egress", _E, "SCHED_CLS", "BPF_TCX_EGRESS"),
    _d("tcx/ingress", _E, "SCHED_CLS", "BPF_TCX_INGRESS"),
    _d("tcx/egress", _E, "SCHED_CLS", "BPF_TCX_EGRESS"),
    _d("tc", _E, "SCHED_CLS"),
    _d("classifier", _E, "SCHED_CLS"),
    _d("action", _E, "SCHED_ACT"),
    _d("netkit/primary", _E, "SCHED_CLS", "BPF_NETKIT_PRIMARY"),
    _d("netkit/peer", _E, "SCHED_CLS", "BPF_NETKIT_PEER"),
    _d("tracepoint", _O, "TRACEPOINT", "", _T),
    _d("tp", _O, "TRACEPOINT", "", _T),
    _d("tracepoint.s", _O, "TRACEPOINT", "", _T, sleepable=True),
    _d("tp.s", _O, "TRACEPOINT", "", _T, sleepable=True),
    _d("raw_tracepoint", _O, "RAW_TRACEPOINT", "", _R),
    _d("raw_tp", _O, "RAW_TRACEPOINT", "", _R),
    _d("raw_tracepoint.s", _O, "RAW_TRACEPOINT", "", _R, sleepable=True),
    _d("raw_tp.s", _O, "RAW_TRACEPOINT", "", _R, sleepable=True),
    _d("raw_tracepoint.w", _O, "RAW_TRACEPOINT_WRITABLE", "", _R),
    _d("raw_tp.w", _O, "RAW_TRACEPOINT_WRITABLE", "", _R),
    *_sleepable_pair("tp_btf", "TRACING", "BPF_TRACE_RAW_TP", Target.TP_BTF, btf=True),
    _d("fentry", _O, "TRACING", "BPF_TRACE_FENTRY", _F, btf=True),
    _d("fmod_ret", _O, "TRACING", "BPF_MODIFY_RETURN", _F, btf=True),
    _d("fexit", _O, "TRACING", "BPF_TRACE_FEXIT", _F, btf=True),
    _d("fentry.s", _O, "TRACING", "BPF_TRACE_FENTRY", _F, sleepable=True, btf=True),
    _d("fmod_ret.s", _O, "TRACING", "BPF_MODIFY_RETURN", _F, sleepable=True, btf=True),
    _d("fexit.s", _O, "TRACING", "BPF_TRACE_FEXIT", _F, sleepable=True, btf=True),
    *_sleepable_pair("fsession", "TRACING", "BPF_TRACE_FSESSION", _F, btf=True),
    *_sleepable_pair("fsession.multi", "TRACING", "BPF_TRACE_FSESSION_MULTI", _FM),
    _d("fentry.multi", _O, "TRACING", "BPF_TRACE_FENTRY_MULTI", _FM),
    _d("fexit.multi", _O, "TRACING", "BPF_TRACE_FEXIT_MULTI", _FM),
    _d("fentry.multi.s", _O, "TRACING", "BPF_TRACE_FENTRY_MULTI", _FM, sleepable=True),
    _d("fexit.multi.s", _O, "TRACING", "BPF_TRACE_FEXIT_MULTI", _FM, sleepable=True),
    _d("freplace", _O, "EXT", "", Target.FREPLACE, btf=True),
    *_sleepable_pair("lsm", "LSM", "BPF_LSM_MAC", Target.LSM, btf=True),
    _d("lsm_cgroup", _O, "LSM", "BPF_LSM_CGROUP", Target.LSM, btf=True),
    *_sleepable_pair("iter", "TRACING", "BPF_TRACE_ITER", Target.ITER, btf=True),
    _d("syscall", _E, "SYSCALL", sleepable=True),
    _d("xdp.frags/devmap", _E, "XDP", "BPF_XDP_DEVMAP"),
    _d("xdp/devmap", _E, "XDP", "BPF_XDP_DEVMAP"),
    _d("xdp.frags/cpumap", _E, "XDP", "BPF_XDP_CPUMAP"),
    _d("xdp/cpumap", _E, "XDP", "BPF_XDP_CPUMAP"),
    _d("xdp.frags", _E, "XDP", "BPF_XDP"),
    _d("xdp", _E, "XDP", "BPF_XDP"),
    _d("perf_event", _E, "PERF_EVENT"),
    _d("lwt_in", _E, "LWT_IN"),
    _d("lwt_out", _E, "LWT_OUT"),
    _d("lwt_xmit", _E, "LWT_XMIT"),
    _d("lwt_seg6local", _E, "LWT_SEG6LOCAL"),
    _d("sockops", _E, "SOCK_OPS", "BPF_CGROUP_SOCK_OPS"),
    _d("sk_skb/stream_parser", _E, "SK_SKB", "BPF_SK_SKB_STREAM_PARSER"),
    _d("sk_skb/stream_verdict", _E, "SK_SKB", "BPF_SK_SKB_STREAM_VERDICT"),
    _d("sk_skb/verdict", _E, "SK_SKB", "BPF_SK_SKB_VERDICT"),
    _d("sk_skb", _E, "SK_SKB"),
    _d("sk_msg", _E, "SK_MSG", "BPF_SK_MSG_VERDICT"),
    _d("lirc_mode2", _E, "LIRC_MODE2", "BPF_LIRC_MODE2"),
    _d("flow_dissector", _E, "FLOW_DISSECTOR", "BPF_FLOW_DISSECTOR"),
    _d("cgroup_skb/ingress", _E, "CGROUP_SKB", "BPF_CGROUP_INET_INGRESS"),
    _d("cgroup_skb/egress", _E, "CGROUP_SKB", "BPF_CGROUP_INET_EGRESS"),
    _d("cgroup/skb", _E, "CGROUP_SKB"),
    _d("cgroup/sock_create", _E, "CGROUP_SOCK", "BPF_CGROUP_INET_SOCK_CREATE"),
    _d("cgroup/sock_release", _E, "CGROUP_SOCK", "BPF_CGROUP_INET_SOCK_RELEASE"),
    _d("cgroup/sock", _E, "CGROUP_SOCK", "BPF_CGROUP_INET_SOCK_CREATE"),
    _d("cgroup/post_bind4", _E, "CGROUP_SOCK", "BPF_CGROUP_INET4_POST_BIND"),
    _d("cgroup/post_bind6", _E, "CGROUP_SOCK", "BPF_CGROUP_INET6_POST_BIND"),
    *(
        _d(f"cgroup/{op}", _E, "CGROUP_SOCK_ADDR", f"BPF_CGROUP_{attach}")
        for op, attach in (
            ("bind4", "INET4_BIND"),
            ("bind6", "INET6_BIND"),
            ("connect4", "INET4_CONNECT"),
            ("connect6", "INET6_CONNECT"),
            ("connect_unix", "UNIX_CONNECT"),
            ("sendmsg4", "UDP4_SENDMSG"),
            ("sendmsg6", "UDP6_SENDMSG"),
            ("sendmsg_unix", "UNIX_SENDMSG"),
            ("recvmsg4", "UDP4_RECVMSG"),
            ("recvmsg6", "UDP6_RECVMSG"),
            ("recvmsg_unix", "UNIX_RECVMSG"),
            ("getpeername4", "INET4_GETPEERNAME"),
            ("getpeername6", "INET6_GETPEERNAME"),
            ("getpeername_unix", "UNIX_GETPEERNAME"),
            ("getsockname4", "INET4_GETSOCKNAME"),
            ("getsockname6", "INET6_GETSOCKNAME"),
            ("getsockname_unix", "UNIX_GETSOCKNAME"),
        )
    ),
    _d("cgroup/sysctl", _E, "CGROUP_SYSCTL", "BPF_CGROUP_SYSCTL"),
    _d("cgroup/getsockopt", _E, "CGROUP_SOCKOPT", "BPF_CGROUP_GETSOCKOPT"),
    _d("cgroup/setsockopt", _E, "CGROUP_SOCKOPT", "BPF_CGROUP_SETSOCKOPT"),
    _d("cgroup/dev", _E, "CGROUP_DEVICE", "BPF_CGROUP_DEVICE"),
    *_sleepable_pair("struct_ops", "STRUCT_OPS", "", Target.STRUCT_OPS),
    _d("sk_lookup", _E, "SK_LOOKUP", "BPF_SK_LOOKUP"),
    _d("netfilter", _E, "NETFILTER", "BPF_NETFILTER"),
)


@attrs.frozen
class SectionMatch:
    """A section name as libbpf reads it: the rule that matched (None: libbpf knows no
    rule and cannot load the program without the loader setting its type), whether it
    loads automatically, and the attach target text after the first `/` ("" if none)."""

    section: str
    rule: SectionDef | None
    autoload: bool
    target: str


def match_section(section: str) -> SectionMatch:
    """The libbpf rule for `section`, the first in `SECTION_DEFS` order that matches."""
    autoload = not section.startswith("?")
    name = section if autoload else section[1:]
    for rule in SECTION_DEFS:
        if rule.matches(name):
            target = ""
            if rule.target is not Target.NONE and "/" in name:
                target = name.split("/", 1)[1]
            return SectionMatch(section, rule, autoload, target)
    return SectionMatch(section, None, autoload, "")
