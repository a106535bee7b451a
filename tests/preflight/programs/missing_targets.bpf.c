// Targets this kernel does not have.
#include "common.h"

SEC("fentry/no_such_function_xyz")
int BPF_PROG(no_function) { return 0; }

SEC("tp_btf/no_such_tracepoint")
int BPF_PROG(no_btf_tp) { return 0; }

SEC("lsm/no_such_hook")
int BPF_PROG(no_hook) { return 0; }

SEC("iter/no_such_iterator")
int no_iter(void *ctx) { return 0; }

SEC("tp/sched/no_such_event")
int no_event(void *ctx) { return 0; }

SEC("raw_tp/no_such_raw_tracepoint")
int no_raw(void *ctx) { return 0; }
