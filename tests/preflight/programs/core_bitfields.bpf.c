// Bitfield relocations: byte offset and size, left and right shifts, signedness.
#include "common.h"

SEC("tp_btf/sched_switch")
int BPF_PROG(switch_bits, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	u64 execve = BPF_CORE_READ_BITFIELD_PROBED(next, in_execve);
	u64 iowait = BPF_CORE_READ_BITFIELD_PROBED(prev, in_iowait);
	u64 klass = BPF_CORE_READ_BITFIELD_PROBED(prev, init_private_fork_class);
	bpf_printk("%llu %llu %llu", execve, iowait, klass);
	return 0;
}

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(skb_bits, struct sk_buff *skb)
{
	u64 cloned = BPF_CORE_READ_BITFIELD_PROBED(skb, cloned);
	u64 fclone = BPF_CORE_READ_BITFIELD_PROBED(skb, fclone);
	bpf_printk("%llu %llu", cloned, fclone);
	return 0;
}
