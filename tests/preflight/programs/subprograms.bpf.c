// Relocations and helper calls in .text subprograms belong to the programs calling them.
#include "common.h"

static __noinline u32 parent_tgid(struct task_struct *t)
{
	return BPF_CORE_READ(t, real_parent, tgid) + bpf_get_smp_processor_id();
}

__noinline int global_helper(int extra)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();

	return BPF_CORE_READ(t, pid) + extra;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(exec_parent, struct task_struct *p)
{
	return parent_tgid(p) + global_helper(1);
}

SEC("?tp_btf/sched_process_exit")
int BPF_PROG(exit_not_autoloaded, struct task_struct *p)
{
	return BPF_CORE_READ(p, exit_code);
}
