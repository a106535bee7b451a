// Sections only newer libbpf versions know (netfilter 1.2, tcx and netkit 1.3, kprobe.session
// 1.5): an
// older loader such as bpftool 7.1 (libbpf 1.1) cannot guess their program types.
#include "common.h"

SEC("tcx/ingress")
int tcx_in(struct __sk_buff *skb) { return 0; }

SEC("netkit/primary")
int netkit_primary(struct __sk_buff *skb) { return 0; }

SEC("kprobe.session/do_unlinkat")
int session(struct pt_regs *ctx) { return 0; }

SEC("netfilter")
int nf_accept(struct bpf_nf_ctx *ctx) { return 1; }
