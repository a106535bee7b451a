// A typed __ksym variable: its type is checked against BTF, and the verifier needs its
// address from kallsyms, which lists data symbols only with CONFIG_KALLSYMS_ALL.
#include "common.h"

extern const struct rq runqueues __ksym;

SEC("tp_btf/sched_switch")
int BPF_PROG(this_rq)
{
	struct rq *rq = bpf_this_cpu_ptr(&runqueues);

	bpf_printk("%d", rq->cpu);
	return 0;
}
