// kfuncs this kernel has, and a weak kfunc it lacks, guarded by a check of its address.
#include "common.h"

extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;
extern void bpf_not_a_kfunc_xyz(void) __ksym __weak;

SEC("tp_btf/sched_switch")
int BPF_PROG(use_kfuncs, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct task_struct *t;

	bpf_rcu_read_lock();
	bpf_rcu_read_unlock();
	t = bpf_task_from_pid(1);
	if (t)
		bpf_task_release(t);
	if (bpf_not_a_kfunc_xyz)
		bpf_not_a_kfunc_xyz();
	return 0;
}
