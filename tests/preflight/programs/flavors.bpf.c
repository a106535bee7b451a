// ___flavor fallbacks: task_struct's state field was renamed __state in 5.14; read
// whichever this kernel has, guarded by existence checks.
#include "common.h"

struct task_struct___old {
	long state;
} __attribute__((preserve_access_index));

struct task_struct___new {
	unsigned int __state;
} __attribute__((preserve_access_index));

SEC("tp_btf/sched_switch")
int BPF_PROG(task_state, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	long state = 0;
	if (bpf_core_field_exists(struct task_struct___new, __state))
		state = BPF_CORE_READ((struct task_struct___new *)prev, __state);
	else if (bpf_core_field_exists(struct task_struct___old, state))
		state = BPF_CORE_READ((struct task_struct___old *)prev, state);
	bpf_printk("%ld", state);
	return 0;
}
