// Type and enum relocations: exists, size, matches, local and target ids, enum values,
// with ___flavor names and types the kernel lacks.
#include "common.h"

struct rlimit___mine {
	u64 rlim_cur;
	u64 rlim_max;
};

struct rlimit___wrong {
	char rlim_cur;
};

struct not_in_kernel___x {
	int a;
};

enum bpf_func_id___mine {
	BPF_FUNC_map_update_elem___mine = 2,
	BPF_FUNC_future_helper___mine = 999,
};

SEC("raw_tp/sched_switch")
int type_relos(void *ctx)
{
	u64 r = 0;
	r += bpf_core_type_exists(struct task_struct);
	r += bpf_core_type_exists(struct not_in_kernel___x);
	r += bpf_core_type_size(struct task_struct);
	r += bpf_core_type_size(struct rlimit___mine);
	r += bpf_core_type_matches(struct rlimit___mine);
	r += bpf_core_type_matches(struct rlimit___wrong);
	r += bpf_core_type_id_local(struct task_struct);
	r += bpf_core_type_id_kernel(struct task_struct);
	r += bpf_core_type_id_kernel(struct not_in_kernel___x);
	r += bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_ringbuf_output);
	r += bpf_core_enum_value_exists(enum bpf_func_id___mine, BPF_FUNC_future_helper___mine);
	r += bpf_core_enum_value(enum bpf_func_id, BPF_FUNC_get_current_pid_tgid);
	r += bpf_core_enum_value(enum bpf_func_id___mine, BPF_FUNC_map_update_elem___mine);
	bpf_printk("%llu", r);
	return 0;
}

struct task_struct___bad {
	struct list_head pid;
} __attribute__((preserve_access_index));

struct task_struct___arr {
	char comm[64];
} __attribute__((preserve_access_index));

SEC("raw_tp/sched_process_exit")
int field_mismatch(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct___arr *t = (struct task_struct___arr *)ctx->args[0];
	char c = 0;
	int r = bpf_core_field_exists(((struct task_struct___bad *)t)->pid);

	if (bpf_core_field_exists(t->comm[40]))
		bpf_core_read(&c, 1, &t->comm[40]);
	bpf_printk("%d %d", r, c);
	return 0;
}
