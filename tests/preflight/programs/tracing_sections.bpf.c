// Tracing sections whose targets this kernel has: tracepoints, raw and BTF tracepoints
// and an iterator.
#include "common.h"

SEC("tp/sched/sched_switch")
int tp_switch(void *ctx) { return 0; }

SEC("tracepoint/syscalls/sys_enter_openat")
int tp_openat(void *ctx) { return 0; }

SEC("raw_tp/sched_wakeup")
int raw_wakeup(struct bpf_raw_tracepoint_args *ctx) { return 0; }

SEC("tp_btf/sched_wakeup")
int BPF_PROG(btf_wakeup, struct task_struct *p) { return 0; }

SEC("iter/task")
int iter_tasks(struct bpf_iter__task *ctx) { return 0; }
