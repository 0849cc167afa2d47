/* x86_64 vCPU state: CPUID, MSRs, local APIC wiring, and the boot vCPU's 64-bit entry state. */
#include <cpuid.h>
#include <errno.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/arch.h"
#include "arch/x86_64/layout.h"
#include "arch/x86_64/x86.h"
#include "vmm/log.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#define CPUID_HYPERVISOR_BIT (1u << 31)
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MISC_ENABLE_FAST_STRING 1
#define MTRR_ENABLE_WRITEBACK 0x806
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_MODE_EXTINT 0x7
#define APIC_MODE_NMI 0x4

#define PDE_PRESENT_RW_HUGE 0x83ull
#define PTE_PRESENT_RW 0x03ull
#define CR0_PE 0x1ull
#define CR0_ET 0x10ull
#define CR0_PG 0x80000000ull
#define CR4_PAE 0x20ull
#define EFER_LME 0x100ull
#define EFER_LMA 0x400ull

#define CPUID_HYPERVISOR_LEAF 0x40000000u
#define CPUID_7_EBX_ERMS (1u << 9) /* enhanced rep movsb/stosb */
#define CPUID_7_EDX_FSRM (1u << 4) /* fast short rep movsb */

/* Whether this process runs on a CPU that QEMU's TCG emulates (its hypervisor signature). */
static bool host_cpu_is_tcg(void)
{
	unsigned eax, ebx, ecx, edx;
	char sig[12];

	__cpuid(1, eax, ebx, ecx, edx);
	if (!(ecx & CPUID_HYPERVISOR_BIT))
		return false;
	__cpuid(CPUID_HYPERVISOR_LEAF, eax, ebx, ecx, edx);
	memcpy(sig, &ebx, 4);
	memcpy(sig + 4, &ecx, 4);
	memcpy(sig + 8, &edx, 4);
	return memcmp(sig, "TCGTCGTCGTCG", sizeof(sig)) == 0;
}

/*
 * Under TCG the guest's instructions are emulated as well (KVM's nested
 * SVM runs on TCG's), and TCG runs rep movsb/stosb one byte per iteration.
 * Linux uses them for memcpy, copy_from_user and clear_page whenever ERMS
 * or FSRM is set, and rep movsq otherwise: hiding the two hints made the
 * nested GPU guest's 3 MiB frame copies go from 11 to 18-21 frames/s. On
 * a real CPU they stay.
 */
void x86_cpuid_tune_for_host(struct kvm_cpuid2 *cpuid)
{
	if (!host_cpu_is_tcg())
		return;
	for (unsigned i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		if (e->function == 7 && e->index == 0) {
			e->ebx &= ~CPUID_7_EBX_ERMS;
			e->edx &= ~CPUID_7_EDX_FSRM;
		}
	}
	log_info("cpu", "host CPU emulated by TCG: guest CPUID without ERMS/FSRM (rep movsb is "
			"slow there)");
}

static unsigned bits_for(unsigned n)
{
	unsigned bits = 0;

	while ((1u << bits) < n)
		bits++;
	return bits;
}

/* Tells each vCPU its own APIC id and the topology, on top of what KVM supports. */
static void cpuid_personalize(struct kvm_cpuid2 *c, unsigned index, unsigned ncpus)
{
	for (unsigned i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			e->ebx = (e->ebx & 0x00ffffff) | (index << 24);
			e->ecx |= CPUID_HYPERVISOR_BIT;
			break;
		case 0xb:
		case 0x1f:
			e->edx = index;
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = (1u << 8);
			} else if (e->index == 1) {
				e->eax = bits_for(ncpus);
				e->ebx = ncpus;
				e->ecx = (2u << 8) | 1;
			} else {
				e->eax = e->ebx = 0;
				e->ecx = e->index;
			}
			break;
		}
	}
}

static int vcpu_set_cpuid(struct vm *vm, struct vcpu *vcpu)
{
	const struct kvm_cpuid2 *supported = vm->arch->cpuid;
	size_t size = sizeof(*supported) + supported->nent * sizeof(supported->entries[0]);
	struct kvm_cpuid2 *c = malloc(size);
	int r = 0;

	if (!c)
		return -ENOMEM;
	memcpy(c, supported, size);
	cpuid_personalize(c, vcpu->index, vm->ncpus);
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, c) < 0)
		r = -errno;
	free(c);
	return r;
}

static int vcpu_set_msrs(struct vcpu *vcpu)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry entries[2];
	} msrs = {
	    .hdr.nmsrs = 2,
	    .entries = {{.index = MSR_IA32_MISC_ENABLE, .data = MISC_ENABLE_FAST_STRING},
			{.index = MSR_MTRR_DEF_TYPE, .data = MTRR_ENABLE_WRITEBACK}},
	};

	return ioctl(vcpu->fd, KVM_SET_MSRS, &msrs) == 2 ? 0 : -EINVAL;
}

/* LINT0 takes the PIC's ExtINT, LINT1 is NMI: what firmware sets up on a PC. */
static int vcpu_set_lapic(struct vcpu *vcpu)
{
	struct kvm_lapic_state lapic;
	uint32_t *lint0, *lint1;

	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &lapic) < 0)
		return -errno;
	lint0 = (uint32_t *)&lapic.regs[APIC_LVT_LINT0];
	lint1 = (uint32_t *)&lapic.regs[APIC_LVT_LINT1];
	*lint0 = (*lint0 & ~0x700u) | (APIC_MODE_EXTINT << 8);
	*lint1 = (*lint1 & ~0x700u) | (APIC_MODE_NMI << 8);
	if (ioctl(vcpu->fd, KVM_SET_LAPIC, &lapic) < 0)
		return -errno;
	return 0;
}

/* GDT with __BOOT_CS at 0x10 and __BOOT_DS at 0x18, as the 64-bit boot protocol requires. */
static int write_boot_gdt(struct vm *vm)
{
	const uint64_t gdt[] = {
	    0,
	    0,
	    0x00af9b000000ffffull, /* 64-bit code, present, DPL 0 */
	    0x00cf93000000ffffull, /* data, 4 GiB, writable */
	    0x008f8b000000ffffull, /* 64-bit TSS, busy */
	};

	return guest_memory_write(&vm->mem, X86_BOOT_GDT, gdt, sizeof(gdt));
}

/* Identity map of the first 4 GiB with 2 MiB pages: enough for the kernel's early code. */
static int write_boot_page_tables(struct vm *vm)
{
	uint64_t *pml4 = guest_memory_ptr(&vm->mem, X86_PML4, 4096);
	uint64_t *pdpt = guest_memory_ptr(&vm->mem, X86_PDPT, 4096);
	uint64_t *pd = guest_memory_ptr(&vm->mem, X86_PD, 4096ull * X86_PD_COUNT);

	if (!pml4 || !pdpt || !pd)
		return -EFAULT;
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = X86_PDPT | PTE_PRESENT_RW;
	for (unsigned i = 0; i < X86_PD_COUNT; i++)
		pdpt[i] = (X86_PD + i * 4096ull) | PTE_PRESENT_RW;
	for (unsigned i = 0; i < 512 * X86_PD_COUNT; i++)
		pd[i] = ((uint64_t)i << 21) | PDE_PRESENT_RW_HUGE;
	return 0;
}

static void segment_flat(struct kvm_segment *s, uint16_t selector, uint8_t type, bool code)
{
	*s = (struct kvm_segment){
	    .base = 0,
	    .limit = 0xffffffff,
	    .selector = selector,
	    .type = type,
	    .present = 1,
	    .s = 1,
	    .db = code ? 0 : 1,
	    .l = code ? 1 : 0,
	    .g = 1,
	};
}

static int vcpu_set_boot_sregs(struct vcpu *vcpu)
{
	struct kvm_sregs sregs;

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	segment_flat(&sregs.cs, 0x10, 0xb, true);
	segment_flat(&sregs.ds, 0x18, 0x3, false);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.tr = (struct kvm_segment){
	    .base = 0, .limit = 0xfffff, .selector = 0x20, .type = 0xb, .present = 1};
	sregs.gdt.base = X86_BOOT_GDT;
	sregs.gdt.limit = 5 * 8 - 1;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.cr0 = CR0_PE | CR0_ET | CR0_PG;
	sregs.cr3 = X86_PML4;
	sregs.cr4 = CR4_PAE;
	sregs.efer = EFER_LME | EFER_LMA;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	return 0;
}

static int vcpu_set_boot_regs(struct vm *vm, struct vcpu *vcpu)
{
	struct kvm_regs regs = {
	    .rflags = 0x2,
	    .rip = vm->arch->entry_rip,
	    .rsi = X86_ZERO_PAGE,
	    .rsp = X86_BOOT_STACK,
	    .rbp = X86_BOOT_STACK,
	};
	struct kvm_fpu fpu = {.fcw = 0x37f, .mxcsr = 0x1f80};

	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0 || ioctl(vcpu->fd, KVM_SET_FPU, &fpu) < 0)
		return -errno;
	return 0;
}

/* Where the guest was when it died: enough to look the address up in System.map. */
void arch_vcpu_log_state(struct vcpu *vcpu)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0 || ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return;
	log_error("vcpu",
		  "vCPU %u: rip=0x%llx rsp=0x%llx cr0=0x%llx cr3=0x%llx cr4=0x%llx "
		  "efer=0x%llx",
		  vcpu->index, (unsigned long long)regs.rip, (unsigned long long)regs.rsp,
		  (unsigned long long)sregs.cr0, (unsigned long long)sregs.cr3,
		  (unsigned long long)sregs.cr4, (unsigned long long)sregs.efer);
	log_error("vcpu",
		  "vCPU %u: rax=0x%llx rbx=0x%llx rcx=0x%llx rdx=0x%llx rsi=0x%llx "
		  "rdi=0x%llx rbp=0x%llx",
		  vcpu->index, (unsigned long long)regs.rax, (unsigned long long)regs.rbx,
		  (unsigned long long)regs.rcx, (unsigned long long)regs.rdx,
		  (unsigned long long)regs.rsi, (unsigned long long)regs.rdi,
		  (unsigned long long)regs.rbp);
}

int arch_vcpu_setup(struct vm *vm, struct vcpu *vcpu)
{
	int r = vcpu_set_cpuid(vm, vcpu);

	if (!r)
		r = vcpu_set_msrs(vcpu);
	if (!r)
		r = vcpu_set_lapic(vcpu);
	/* Only the boot vCPU starts running; the others wait for the guest's INIT/SIPI. */
	if (!r && vcpu->index == 0) {
		r = write_boot_gdt(vm);
		if (!r)
			r = write_boot_page_tables(vm);
		if (!r)
			r = vcpu_set_boot_sregs(vcpu);
		if (!r)
			r = vcpu_set_boot_regs(vm, vcpu);
	}
	if (r)
		log_error("vcpu", "vCPU %u setup failed: %s", vcpu->index, strerror(-r));
	return r;
}
