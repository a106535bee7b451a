// Members inside anonymous structs and unions, and array elements inside structs.
#include "common.h"

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(skb_dev, struct sk_buff *skb)
{
	int ifindex = BPF_CORE_READ(skb, dev, ifindex);
	u32 len = BPF_CORE_READ(skb, len);
	char cb3 = 0;
	bpf_core_read(&cb3, 1, &skb->cb[3]);
	u64 tstamp = BPF_CORE_READ(skb, tstamp);
	bpf_printk("%d %u %d", ifindex, len, cb3);
	bpf_printk("%llu", tstamp);
	return 0;
}
