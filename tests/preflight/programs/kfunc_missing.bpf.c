// A strong kfunc extern the kernel does not have.
#include "common.h"

extern void bpf_not_a_kfunc_xyz(void) __ksym;

SEC("tp_btf/sched_switch")
int BPF_PROG(call_missing)
{
	bpf_not_a_kfunc_xyz();
	return 0;
}
