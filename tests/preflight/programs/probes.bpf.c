// Probe sections: kprobes (this kernel has none), syscall probes, multi-probes, uprobes.
#include "common.h"

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(kp_unlinkat, int dfd) { return 0; }

SEC("kretprobe/do_unlinkat")
int BPF_KRETPROBE(krp_unlinkat, long ret) { return 0; }

SEC("ksyscall/openat")
int BPF_KSYSCALL(ks_openat, int dfd, const char *path) { return 0; }

SEC("kprobe.multi/vfs_*")
int kpm_vfs(struct pt_regs *ctx) { return 0; }

SEC("uprobe//bin/bash:readline")
int BPF_KPROBE(up_readline) { return 0; }

SEC("uretprobe//bin/bash:readline")
int BPF_KRETPROBE(urp_readline, void *ret) { return 0; }
