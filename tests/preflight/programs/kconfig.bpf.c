// .kconfig externs: libbpf's own, options this kernel sets, and a weak one it lacks.
#include "common.h"

extern int LINUX_KERNEL_VERSION __kconfig;
extern bool LINUX_HAS_BPF_COOKIE __kconfig;
extern int CONFIG_HZ __kconfig;
extern bool CONFIG_BPF_SYSCALL __kconfig;
extern bool CONFIG_NOT_A_REAL_OPTION __kconfig __weak;

SEC("raw_tp/sched_switch")
int read_config(void *ctx)
{
	bpf_printk("%d %d %d", LINUX_KERNEL_VERSION, CONFIG_HZ, CONFIG_BPF_SYSCALL);
	bpf_printk("%d %d", LINUX_HAS_BPF_COOKIE, CONFIG_NOT_A_REAL_OPTION);
	return 0;
}
