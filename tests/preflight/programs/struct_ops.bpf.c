// struct_ops: a TCP congestion control this kernel accepts.
#include "common.h"

SEC("struct_ops/pf_ssthresh")
__u32 BPF_PROG(pf_ssthresh, struct sock *sk) { return 10; }

SEC("struct_ops/pf_cong_avoid")
void BPF_PROG(pf_cong_avoid, struct sock *sk, __u32 ack, __u32 acked) {}

SEC("struct_ops/pf_undo_cwnd")
__u32 BPF_PROG(pf_undo_cwnd, struct sock *sk) { return 10; }

SEC(".struct_ops")
struct tcp_congestion_ops pf_cc = {
	.ssthresh = (void *)pf_ssthresh,
	.cong_avoid = (void *)pf_cong_avoid,
	.undo_cwnd = (void *)pf_undo_cwnd,
	.name = "pf_cc",
};
