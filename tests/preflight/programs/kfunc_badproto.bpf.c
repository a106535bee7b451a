// A kfunc declared with the wrong number of parameters.
#include "common.h"

extern struct task_struct *bpf_task_from_pid(s32 pid, int extra) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

SEC("tp_btf/sched_switch")
int BPF_PROG(bad_proto)
{
	struct task_struct *t = bpf_task_from_pid(1, 2);
	if (t)
		bpf_task_release(t);
	return 0;
}
