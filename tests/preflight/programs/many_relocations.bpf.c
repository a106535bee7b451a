// Many relocations in one program (three per task_struct field: offset, size and
// existence), the size of a real tool's object; used by bench/preflight_bench.py.
#include "common.h"

#define FIELD(f) \
	acc += BPF_CORE_READ(t, f) + bpf_core_field_size(t->f) + bpf_core_field_exists(t->f);

SEC("tp_btf/sched_switch")
int BPF_PROG(many_fields, bool preempt, struct task_struct *prev, struct task_struct *t)
{
	u64 acc = 0;

	FIELD(__state) FIELD(flags) FIELD(ptrace) FIELD(on_cpu)
	FIELD(wakee_flips) FIELD(recent_used_cpu) FIELD(wake_cpu) FIELD(on_rq)
	FIELD(prio) FIELD(static_prio) FIELD(normal_prio) FIELD(rt_priority)
	FIELD(policy) FIELD(nr_cpus_allowed) FIELD(exit_state) FIELD(exit_code)
	FIELD(exit_signal) FIELD(pdeath_signal) FIELD(jobctl) FIELD(personality)
	FIELD(atomic_flags) FIELD(pid) FIELD(tgid) FIELD(utime)
	FIELD(stime) FIELD(gtime) FIELD(nvcsw) FIELD(nivcsw)
	FIELD(start_time) FIELD(start_boottime) FIELD(min_flt) FIELD(maj_flt)
	FIELD(sessionid) FIELD(parent_exec_id) FIELD(self_exec_id)

	bpf_printk("%llu", acc);
	return 0;
}
