// A strong .kconfig extern this kernel's config does not set.
#include "common.h"

extern int CONFIG_NOT_A_REAL_OPTION __kconfig;

SEC("raw_tp/sched_switch")
int read_missing(void *ctx)
{
	bpf_printk("%d", CONFIG_NOT_A_REAL_OPTION);
	return 0;
}
