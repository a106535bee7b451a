// A section libbpf has no rule for, and one whose attach type is newer than this kernel.
#include "common.h"

SEC("foo/bar")
int unknown_section(void *ctx) { return 0; }

SEC("fsession/do_unlinkat")
int BPF_PROG(newer_attach_type) { return 0; }
