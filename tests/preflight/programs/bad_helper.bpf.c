// A call to a helper id this kernel does not have.
#include "common.h"

static long (*bpf_future_helper)(void) = (void *)300;

SEC("raw_tp/sched_switch")
int call_future(void *ctx)
{
	return bpf_future_helper();
}
