// Field relocations: byte offsets (nested, arrays, arrays of structs), sizes, existence, sign.
#include "common.h"

SEC("tp_btf/sched_process_exec")
int BPF_PROG(exec_fields, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	u32 pid = BPF_CORE_READ(p, pid);
	u32 ppid = BPF_CORE_READ(p, real_parent, tgid);
	u64 nofile = BPF_CORE_READ(p, signal, rlim[7].rlim_cur);
	char third = 0;
	bpf_core_read(&third, 1, &p->comm[2]);
	u32 comm_size = bpf_core_field_size(p->comm);
	int has_flags = bpf_core_field_exists(p->flags);
	int prio_signed = __builtin_preserve_field_info(p->prio, BPF_FIELD_SIGNED);
	bpf_printk("%u %u %llu", pid, ppid, nofile);
	bpf_printk("%d %u %d", third, comm_size, has_flags + prio_signed);
	return 0;
}

SEC("raw_tp/sched_process_fork")
int fork_fields(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *child = (struct task_struct *)ctx->args[1];
	u32 tgid = BPF_CORE_READ(child, tgid);
	u64 start = BPF_CORE_READ(child, start_time);
	bpf_printk("%u %llu", tgid, start);
	return 0;
}
