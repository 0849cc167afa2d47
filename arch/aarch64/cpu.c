/* aarch64 vCPUs: KVM_ARM_VCPU_INIT with PSCI 0.2 and PMUv3, MPIDRs, and the boot registers. */
#include <errno.h>
#include <linux/kvm.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/image.h"
#include "arch/aarch64/layout.h"
#include "arch/arch.h"
#include "vmm/log.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#define CORE_REG(field)                                                                            \
	(KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(field))
#define REG_MPIDR_EL1 ARM64_SYS_REG(3, 0, 0, 0, 5)
#define REG_ID_AA64MMFR0_EL1 ARM64_SYS_REG(3, 0, 0, 7, 0)
#define REG_ESR_EL1 ARM64_SYS_REG(3, 0, 5, 2, 0)
#define REG_FAR_EL1 ARM64_SYS_REG(3, 0, 6, 0, 0)
/* EL1 with SP_EL1, every exception masked: what booting.rst asks for. */
#define BOOT_PSTATE (PSR_MODE_EL1h | PSR_D_BIT | PSR_A_BIT | PSR_I_BIT | PSR_F_BIT)
#define MPIDR_AFFINITY_MASK 0xff00ffffffull

uint64_t arm64_mpidr_to_fdt_reg(uint64_t mpidr)
{
	return mpidr & MPIDR_AFFINITY_MASK;
}

static int get_reg(struct vcpu *vcpu, uint64_t id, uint64_t *value)
{
	struct kvm_one_reg reg = {.id = id, .addr = (uint64_t)(uintptr_t)value};

	return ioctl(vcpu->fd, KVM_GET_ONE_REG, &reg) < 0 ? -errno : 0;
}

static int set_reg(struct vcpu *vcpu, uint64_t id, uint64_t value)
{
	struct kvm_one_reg reg = {.id = id, .addr = (uint64_t)(uintptr_t)&value};

	return ioctl(vcpu->fd, KVM_SET_ONE_REG, &reg) < 0 ? -errno : 0;
}

/* Secondaries start powered off: the guest brings them up with PSCI CPU_ON. */
int arch_vcpu_setup(struct vm *vm, struct vcpu *vcpu)
{
	struct kvm_vcpu_init init = vm->arch->init;

	if (vcpu->index > 0)
		init.features[0] |= 1u << KVM_ARM_VCPU_POWER_OFF;
	if (ioctl(vcpu->fd, KVM_ARM_VCPU_INIT, &init) < 0) {
		int err = -errno;
		log_error("vcpu", "vCPU %u: KVM_ARM_VCPU_INIT failed: %s", vcpu->index,
			  strerror(errno));
		return err;
	}
	return 0;
}

/* The PMU's overflow interrupt is a PPI the vGIC must know first, else KVM_RUN fails. */
static int vcpu_pmu_init(struct vcpu *vcpu)
{
	int irq = ARM64_PPI_INTID(ARM64_PPI_PMU);
	struct kvm_device_attr a = {.group = KVM_ARM_VCPU_PMU_V3_CTRL,
				    .attr = KVM_ARM_VCPU_PMU_V3_IRQ,
				    .addr = (uint64_t)(uintptr_t)&irq};

	if (ioctl(vcpu->fd, KVM_SET_DEVICE_ATTR, &a) < 0)
		return -errno;
	a.attr = KVM_ARM_VCPU_PMU_V3_INIT;
	a.addr = 0;
	return ioctl(vcpu->fd, KVM_SET_DEVICE_ATTR, &a) < 0 ? -errno : 0;
}

/* Refuses an Image whose page size the vCPU's MMU cannot translate with. */
static int check_page_size(struct vm *vm)
{
	uint64_t mmfr0 = 0;
	int r = get_reg(&vm->vcpus[0], REG_ID_AA64MMFR0_EL1, &mmfr0);

	if (r) {
		log_error("vcpu", "cannot read ID_AA64MMFR0_EL1: %s", strerror(-r));
		return r;
	}
	if (arm64_image_page_size_ok(vm->arch->image_page_shift, mmfr0))
		return 0;
	log_error("boot", "kernel '%s' uses %u KiB pages, which this CPU does not offer",
		  vm->cfg->kernel_path, (1u << vm->arch->image_page_shift) >> 10);
	return -ENOEXEC;
}

static int boot_registers(struct vm *vm)
{
	struct vcpu *boot = &vm->vcpus[0];
	int r = set_reg(boot, CORE_REG(regs.pstate), BOOT_PSTATE);

	if (!r)
		r = set_reg(boot, CORE_REG(regs.pc), vm->arch->kernel_entry);
	for (unsigned i = 0; i < 4 && !r; i++)
		r = set_reg(boot, CORE_REG(regs.regs[i]), i == 0 ? vm->arch->fdt_gpa : 0);
	if (r)
		log_error("vcpu", "cannot set the boot registers: %s", strerror(-r));
	return r;
}

static int read_mpidrs(struct vm *vm, uint64_t *mpidrs)
{
	for (unsigned i = 0; i < vm->ncpus; i++) {
		int r = get_reg(&vm->vcpus[i], REG_MPIDR_EL1, &mpidrs[i]);
		if (r) {
			log_error("vcpu", "vCPU %u: cannot read MPIDR_EL1: %s", i, strerror(-r));
			return r;
		}
	}
	return 0;
}

int arch_vcpus_ready(struct vm *vm)
{
	uint64_t *mpidrs = calloc(vm->ncpus, sizeof(*mpidrs));
	int r = mpidrs ? arm64_gic_init(vm) : -ENOMEM;

	for (unsigned i = 0; !r && vm->arch->pmu && i < vm->ncpus; i++) {
		r = vcpu_pmu_init(&vm->vcpus[i]);
		if (r)
			log_error("vcpu", "vCPU %u: PMUv3 init failed: %s", i, strerror(-r));
	}
	if (!r)
		r = check_page_size(vm);
	if (!r)
		r = read_mpidrs(vm, mpidrs);
	if (!r)
		r = arm64_write_fdt(vm, mpidrs);
	if (!r)
		r = boot_registers(vm);
	free(mpidrs);
	return r;
}

/* Where the guest was when it died: enough to look the address up in System.map. */
void arch_vcpu_log_state(struct vcpu *vcpu)
{
	uint64_t pc = 0, pstate = 0, sp = 0, elr = 0, esr = 0, far = 0;

	get_reg(vcpu, CORE_REG(regs.pc), &pc);
	get_reg(vcpu, CORE_REG(regs.pstate), &pstate);
	get_reg(vcpu, CORE_REG(sp_el1), &sp);
	get_reg(vcpu, CORE_REG(elr_el1), &elr);
	get_reg(vcpu, REG_ESR_EL1, &esr);
	get_reg(vcpu, REG_FAR_EL1, &far);
	log_error("vcpu",
		  "vCPU %u: pc=0x%llx pstate=0x%llx sp_el1=0x%llx elr_el1=0x%llx esr_el1=0x%llx "
		  "far_el1=0x%llx",
		  vcpu->index, (unsigned long long)pc, (unsigned long long)pstate,
		  (unsigned long long)sp, (unsigned long long)elr, (unsigned long long)esr,
		  (unsigned long long)far);
}
