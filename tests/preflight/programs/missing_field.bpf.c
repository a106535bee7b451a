// Reads the kernel lacks, unguarded: a removed field and a type that does not exist.
#include "common.h"

struct task_struct___old {
	long state;
} __attribute__((preserve_access_index));

struct gone_struct {
	int value;
} __attribute__((preserve_access_index));

SEC("tp_btf/sched_switch")
int BPF_PROG(old_state, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	long state = BPF_CORE_READ((struct task_struct___old *)prev, state);
	bpf_printk("%ld", state);
	return 0;
}

SEC("raw_tp/sched_switch")
int gone_type(struct bpf_raw_tracepoint_args *ctx)
{
	struct gone_struct *g = (struct gone_struct *)ctx->args[1];
	int v = BPF_CORE_READ(g, value);
	bpf_printk("%d", v);
	return 0;
}
