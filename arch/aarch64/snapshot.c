/* Snapshots on arm64: not yet (the vGIC and ITS tables, timers and one-regs are to come). */
#include "arch/arch.h"

#include <errno.h>
#include <stdbool.h>

#include "vmm/log.h"
#include "vmm/snapfmt.h"

int arch_vcpu_save(struct vcpu *vcpu, struct snap_buf *out)
{
	(void)vcpu;
	(void)out;
	log_error("snapshot", "arm64: saving a vCPU is not supported yet");
	return -ENOTSUP;
}

int arch_vm_save(struct vm *vm, struct snap_buf *out)
{
	(void)vm;
	(void)out;
	log_error("snapshot", "arm64: saving the vGIC and timers is not supported yet");
	return -ENOTSUP;
}

int arch_vcpu_load(struct vcpu *vcpu, struct snap_reader *in)
{
	(void)vcpu;
	snap_fail(in, "vcpu", "arm64 cannot restore a snapshot yet");
	return -ENOTSUP;
}

int arch_vm_load(struct vm *vm, struct snap_reader *in)
{
	(void)vm;
	snap_fail(in, "vm", "arm64 cannot restore a snapshot yet");
	return -ENOTSUP;
}
