// Trampoline sections whose targets this kernel has: fentry, fexit, fmod_ret, an LSM hook.
#include "common.h"

SEC("fentry/do_unlinkat")
int BPF_PROG(enter_unlinkat, int dfd, struct filename *name) { return 0; }

SEC("fexit/do_unlinkat")
int BPF_PROG(exit_unlinkat, int dfd, struct filename *name, long ret) { return 0; }

SEC("fmod_ret/security_file_open")
int BPF_PROG(modret_open, struct file *file, int ret) { return 0; }

SEC("lsm/file_open")
int BPF_PROG(lsm_open, struct file *file) { return 0; }
