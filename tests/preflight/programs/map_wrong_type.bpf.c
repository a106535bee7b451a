// Map types this kernel does not have: a number past its enum, and none at all.
#include "common.h"

struct {
	__uint(type, 99);
	__uint(max_entries, 16);
	__type(key, u32);
	__type(value, u32);
} future_map SEC(".maps");

struct {
	__uint(max_entries, 16);
	__type(key, u32);
	__type(value, u32);
} untyped_map SEC(".maps");

SEC("raw_tp/sched_switch")
int use_maps(void *ctx)
{
	u32 k = 0;
	bpf_map_lookup_elem(&future_map, &k);
	bpf_map_lookup_elem(&untyped_map, &k);
	return 0;
}
