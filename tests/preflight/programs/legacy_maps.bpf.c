// A map defined the pre-libbpf-1.0 way, in SEC("maps").
#include "common.h"

struct legacy_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct legacy_map_def old_map SEC("maps") = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = 4,
	.value_size = 8,
	.max_entries = 1,
};

SEC("raw_tp/sched_switch")
int use_old(void *ctx)
{
	u32 k = 0;
	bpf_map_lookup_elem(&old_map, &k);
	return 0;
}
