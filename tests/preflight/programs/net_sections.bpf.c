// One trivial program per networking, cgroup and other context-only section type.
#include "common.h"

SEC("xdp")
int xdp_pass(struct xdp_md *ctx) { return XDP_PASS; }

SEC("tc")
int tc_ok(struct __sk_buff *skb) { return 0; }

SEC("cgroup_skb/ingress")
int cg_skb_in(struct __sk_buff *skb) { return 1; }

SEC("cgroup/connect4")
int cg_connect4(struct bpf_sock_addr *ctx) { return 1; }

SEC("cgroup/sysctl")
int cg_sysctl(struct bpf_sysctl *ctx) { return 1; }

SEC("cgroup/dev")
int cg_dev(struct bpf_cgroup_dev_ctx *ctx) { return 1; }

SEC("sockops")
int sock_ops(struct bpf_sock_ops *ctx) { return 1; }

SEC("sk_msg")
int msg_pass(struct sk_msg_md *msg) { return SK_PASS; }

SEC("sk_skb/stream_verdict")
int skb_verdict(struct __sk_buff *skb) { return SK_PASS; }

SEC("socket")
int socket_filter(struct __sk_buff *skb) { return 0; }

SEC("flow_dissector")
int dissect(struct __sk_buff *skb) { return 0; }

SEC("sk_lookup")
int lookup(struct bpf_sk_lookup *ctx) { return SK_PASS; }

SEC("lwt_in")
int lwt(struct __sk_buff *skb) { return 0; }

SEC("perf_event")
int on_sample(struct bpf_perf_event_data *ctx) { return 0; }

SEC("syscall")
int user_call(void *ctx) { return 0; }
