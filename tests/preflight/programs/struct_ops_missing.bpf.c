// struct_ops of a type this kernel cannot take.
#include "common.h"

struct not_real_ops {
	int (*init)(void);
	char name[16];
};

SEC("struct_ops/init")
int BPF_PROG(ops_init) { return 0; }

SEC(".struct_ops")
struct not_real_ops pf_ops = {
	.init = (void *)ops_init,
	.name = "pf_ops",
};
