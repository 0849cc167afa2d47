/*
 * x86_64 snapshot hooks: every vCPU's KVM state, the in-kernel PIC, IOAPIC
 * and PIT, the guest clock and the console UART. KVM's own structures are
 * saved whole, as blobs whose size is checked on load (same kernel ABI).
 */
#include "arch/arch.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/console.h"
#include "vmm/log.h"
#include "vmm/snapfmt.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#define MAX_MSRS 512

/* One vCPU ioctl; logs "vCPU N: NAME: error" on failure. */
static int vcpu_ioctl(struct vcpu *vcpu, unsigned long req, void *arg, const char *name)
{
	if (ioctl(vcpu->fd, req, arg) < 0) {
		int err = -errno;

		log_error("snapshot", "vCPU %u: %s failed: %s", vcpu->index, name, strerror(errno));
		return err;
	}
	return 0;
}

static int vm_ioctl(struct vm *vm, unsigned long req, void *arg, const char *name)
{
	if (ioctl(vm->vm_fd, req, arg) < 0) {
		int err = -errno;

		log_error("snapshot", "%s failed: %s", name, strerror(errno));
		return err;
	}
	return 0;
}

/* KVM_GET_XSAVE2 needs a buffer as large as KVM says (AMX state); never below 4 KiB. */
static size_t xsave_size(struct vcpu *vcpu)
{
	int size = ioctl(vcpu->vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);

	return size > (int)sizeof(struct kvm_xsave) ? (size_t)size : sizeof(struct kvm_xsave);
}

/* The MSRs KVM lists (KVM_GET_MSR_INDEX_LIST); returns the count or -errno. */
static int msr_index_list(struct vm *vm, uint32_t *out, unsigned max)
{
	struct kvm_msr_list *list = calloc(1, sizeof(*list) + max * sizeof(uint32_t));
	int n;

	if (!list)
		return -ENOMEM;
	list->nmsrs = max;
	if (ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, list) < 0) {
		n = -errno;
		log_error("snapshot", "KVM_GET_MSR_INDEX_LIST failed: %s", strerror(errno));
	} else {
		n = (int)list->nmsrs;
		memcpy(out, list->indices, list->nmsrs * sizeof(uint32_t));
	}
	free(list);
	return n;
}

struct msr_block {
	struct kvm_msrs hdr;
	struct kvm_msr_entry e[MAX_MSRS];
};

/*
 * Reads every listed MSR the vCPU has into m (m->hdr.nmsrs of them):
 * KVM_GET_MSRS stops at the first one it cannot read, which is skipped.
 */
static int read_msrs(struct vcpu *vcpu, struct msr_block *m)
{
	uint32_t idx[MAX_MSRS];
	struct msr_block *q = calloc(1, sizeof(*q));
	int n = msr_index_list(vcpu->vm, idx, MAX_MSRS);
	unsigned done = 0;

	m->hdr.nmsrs = 0;
	if (!q || n < 0) {
		free(q);
		return n < 0 ? n : -ENOMEM;
	}
	while (done < (unsigned)n) {
		int got;

		q->hdr.nmsrs = (uint32_t)n - done;
		for (unsigned i = 0; i < q->hdr.nmsrs; i++)
			q->e[i] = (struct kvm_msr_entry){.index = idx[done + i]};
		got = ioctl(vcpu->fd, KVM_GET_MSRS, q);
		if (got < 0) {
			got = -errno;
			free(q);
			log_error("snapshot", "vCPU %u: KVM_GET_MSRS failed: %s", vcpu->index,
				  strerror(-got));
			return got;
		}
		memcpy(&m->e[m->hdr.nmsrs], q->e, (size_t)got * sizeof(q->e[0]));
		m->hdr.nmsrs += (uint32_t)got;
		done +=
		    (unsigned)got + ((unsigned)got < q->hdr.nmsrs); /* skip the unreadable one */
	}
	free(q);
	return 0;
}

static int save_msrs(struct vcpu *vcpu, struct snap_buf *b)
{
	struct msr_block *m = calloc(1, sizeof(*m));
	int err = m ? read_msrs(vcpu, m) : -ENOMEM;

	if (!err) {
		snap_put_u32(b, m->hdr.nmsrs);
		for (unsigned i = 0; i < m->hdr.nmsrs; i++) {
			snap_put_u32(b, m->e[i].index);
			snap_put_u64(b, m->e[i].data);
		}
	}
	free(m);
	return err;
}

static bool load_msrs(struct vcpu *vcpu, struct snap_reader *rd)
{
	struct msr_block *m = calloc(1, sizeof(*m));
	uint32_t n = 0;
	int set;

	if (!m)
		return snap_fail(rd, "msrs", "out of memory");
	if (snap_get_u32(rd, "msr count", &n) && n > MAX_MSRS)
		snap_fail(rd, "msr count", "%u, at most %u", n, MAX_MSRS);
	for (uint32_t i = 0; i < n && !rd->failed; i++) {
		snap_get_u32(rd, "msr index", &m->e[i].index);
		snap_get_u64(rd, "msr value", (uint64_t *)&m->e[i].data);
	}
	m->hdr.nmsrs = n;
	set = rd->failed ? 0 : ioctl(vcpu->fd, KVM_SET_MSRS, m);
	if (!rd->failed && (set < 0 || (uint32_t)set != n))
		snap_fail(rd, "msrs", "KVM_SET_MSRS took %d of %u (stopped at 0x%x)", set, n,
			  set >= 0 && (uint32_t)set < n ? m->e[set].index : 0);
	free(m);
	return !rd->failed;
}

/* A KVM state structure: fetched with get, saved as a blob of size bytes. */
struct kvm_piece {
	const char *name;
	unsigned long get, set;
	size_t size;
};

static const struct kvm_piece vcpu_pieces[] = {
    {"regs", KVM_GET_REGS, KVM_SET_REGS, sizeof(struct kvm_regs)},
    {"fpu", KVM_GET_FPU, KVM_SET_FPU, sizeof(struct kvm_fpu)},
    {"xcrs", KVM_GET_XCRS, KVM_SET_XCRS, sizeof(struct kvm_xcrs)},
    {"sregs", KVM_GET_SREGS, KVM_SET_SREGS, sizeof(struct kvm_sregs)},
    {"lapic", KVM_GET_LAPIC, KVM_SET_LAPIC, sizeof(struct kvm_lapic_state)},
};

/* Loaded after the MSRs (TSC deadline and kvmclock are set by then). */
static const struct kvm_piece vcpu_late_pieces[] = {
    {"vcpu events", KVM_GET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS, sizeof(struct kvm_vcpu_events)},
    {"mp state", KVM_GET_MP_STATE, KVM_SET_MP_STATE, sizeof(struct kvm_mp_state)},
    {"debug regs", KVM_GET_DEBUGREGS, KVM_SET_DEBUGREGS, sizeof(struct kvm_debugregs)},
};

static int save_pieces(struct vcpu *vcpu, const struct kvm_piece *p, unsigned n, struct snap_buf *b)
{
	uint8_t buf[8192];

	for (unsigned i = 0; i < n; i++) {
		int err;

		memset(buf, 0, sizeof(buf));
		err = vcpu_ioctl(vcpu, p[i].get, buf, p[i].name);
		if (err)
			return err;
		snap_put_blob(b, buf, (uint32_t)p[i].size);
	}
	return 0;
}

static bool load_pieces(struct vcpu *vcpu, const struct kvm_piece *p, unsigned n,
			struct snap_reader *rd)
{
	uint8_t buf[8192];

	for (unsigned i = 0; i < n && !rd->failed; i++) {
		if (!snap_get_blob(rd, p[i].name, buf, (uint32_t)p[i].size))
			break;
		if (p[i].set == KVM_SET_VCPU_EVENTS) {
			struct kvm_vcpu_events *ev = (void *)buf;

			ev->flags |=
			    KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR;
		}
		if (ioctl(vcpu->fd, p[i].set, buf) < 0)
			snap_fail(rd, p[i].name, "KVM set failed: %s", strerror(errno));
	}
	return !rd->failed;
}

static int save_xsave(struct vcpu *vcpu, struct snap_buf *b)
{
	size_t size = xsave_size(vcpu);
	void *x = calloc(1, size);
	int err = x ? 0 : -ENOMEM;

	if (!err)
		err = vcpu_ioctl(vcpu,
				 size > sizeof(struct kvm_xsave) ? KVM_GET_XSAVE2 : KVM_GET_XSAVE,
				 x, "KVM_GET_XSAVE");
	if (!err)
		snap_put_blob(b, x, (uint32_t)size);
	free(x);
	return err;
}

static bool load_xsave(struct vcpu *vcpu, struct snap_reader *rd)
{
	size_t size = xsave_size(vcpu);
	void *x = calloc(1, size);

	if (!x)
		return snap_fail(rd, "xsave", "out of memory");
	if (snap_get_blob(rd, "xsave", x, (uint32_t)size) && ioctl(vcpu->fd, KVM_SET_XSAVE, x) < 0)
		snap_fail(rd, "xsave", "KVM_SET_XSAVE failed: %s", strerror(errno));
	free(x);
	return !rd->failed;
}

#define NPIECES(a) (unsigned)(sizeof(a) / sizeof((a)[0]))

int arch_vcpu_save(struct vcpu *vcpu, struct snap_buf *out)
{
	int err = save_pieces(vcpu, vcpu_pieces, NPIECES(vcpu_pieces), out);

	if (!err)
		err = save_xsave(vcpu, out);
	if (!err)
		err = save_msrs(vcpu, out);
	if (!err)
		err = save_pieces(vcpu, vcpu_late_pieces, NPIECES(vcpu_late_pieces), out);
	return err;
}

/*
 * KVM's order matters: FPU and XSAVE after the registers, special
 * registers (APIC base) before the LAPIC, the LAPIC before the MSRs (the
 * TSC deadline is read against its timer mode), events and MP state last.
 */
int arch_vcpu_load(struct vcpu *vcpu, struct snap_reader *in)
{
	if (load_pieces(vcpu, vcpu_pieces, NPIECES(vcpu_pieces), in) && load_xsave(vcpu, in) &&
	    load_msrs(vcpu, in))
		load_pieces(vcpu, vcpu_late_pieces, NPIECES(vcpu_late_pieces), in);
	return in->failed ? -EINVAL : 0;
}

static const char *const chip_names[] = {"pic master", "pic slave", "ioapic"};

int arch_vm_save(struct vm *vm, struct snap_buf *out)
{
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock = {0};
	int err = 0;

	for (uint32_t chip = 0; chip < 3 && !err; chip++) {
		struct kvm_irqchip c = {.chip_id = chip};

		err = vm_ioctl(vm, KVM_GET_IRQCHIP, &c, chip_names[chip]);
		snap_put_blob(out, &c, sizeof(c));
	}
	if (!err)
		err = vm_ioctl(vm, KVM_GET_PIT2, &pit, "KVM_GET_PIT2");
	snap_put_blob(out, &pit, sizeof(pit));
	if (!err)
		err = vm_ioctl(vm, KVM_GET_CLOCK, &clock, "KVM_GET_CLOCK");
	snap_put_u64(out, clock.clock);
	if (!err && vm->console)
		uart16550_save(&vm->console->uart, out);
	return err;
}

int arch_vm_load(struct vm *vm, struct snap_reader *in)
{
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock = {0};

	for (uint32_t chip = 0; chip < 3 && !in->failed; chip++) {
		struct kvm_irqchip c;

		if (snap_get_blob(in, chip_names[chip], &c, sizeof(c)) &&
		    (c.chip_id != chip || ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &c) < 0))
			snap_fail(in, chip_names[chip], "KVM_SET_IRQCHIP failed: %s",
				  strerror(errno));
	}
	if (snap_get_blob(in, "pit", &pit, sizeof(pit)) && ioctl(vm->vm_fd, KVM_SET_PIT2, &pit) < 0)
		snap_fail(in, "pit", "KVM_SET_PIT2 failed: %s", strerror(errno));
	/*
	 * Without KVM_CLOCK_REALTIME the clock restarts at the saved value: the
	 * guest sees no time pass while it was not running, and none go back.
	 */
	if (snap_get_u64(in, "kvmclock", (uint64_t *)&clock.clock) &&
	    ioctl(vm->vm_fd, KVM_SET_CLOCK, &clock) < 0)
		snap_fail(in, "kvmclock", "KVM_SET_CLOCK failed: %s", strerror(errno));
	if (!in->failed && vm->console)
		uart16550_load(&vm->console->uart, in);
	return in->failed ? -EINVAL : 0;
}
