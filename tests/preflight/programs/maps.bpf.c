// Maps of types this kernel has, used by a tracepoint program.
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u32);
	__type(value, u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 128);
	__type(key, u64);
	__type(value, u32);
} recent SEC(".maps");

SEC("tp/sched/sched_process_exit")
int count_exit(void *ctx)
{
	u32 pid = bpf_get_current_pid_tgid() >> 32;
	u64 one = 1, *val;
	u32 zero = 0;

	val = bpf_map_lookup_elem(&counts, &pid);
	if (val)
		__sync_fetch_and_add(val, 1);
	else
		bpf_map_update_elem(&counts, &pid, &one, BPF_ANY);
	val = bpf_map_lookup_elem(&scratch, &zero);
	if (val)
		*val += 1;
	bpf_ringbuf_output(&events, &pid, sizeof(pid), 0);
	bpf_map_update_elem(&recent, &one, &pid, BPF_ANY);
	return 0;
}
