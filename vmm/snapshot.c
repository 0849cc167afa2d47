/* Snapshot and restore of the VM: which part holds what, in which order it is loaded. */
#include "vmm/snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "vhost_user/device/device.h"
#include "virtio/rng.h"
#include "vmm/clock.h"
#include "vmm/devices.h"
#include "vmm/log.h"
#include "vmm/snapfmt.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

int vm_snapshot_check(struct vm *vm, struct vm_devices *devs, char *err, size_t n)
{
	int r = 0;

	pthread_mutex_lock(&vm->dev_lock);
	for (unsigned i = 0; i < devs->nvhost_user && !r; i++)
		r = vu_device_snapshot_check(devs->vhost_user[i], err, n);
	pthread_mutex_unlock(&vm->dev_lock);
	return r;
}

/* The machine part: what a restoring VM must have been built with. */
static void put_machine(struct vm *vm, struct vm_devices *devs, struct snap_buf *b)
{
	snap_put_u64(b, vm->mem.total_size);
	snap_put_u32(b, vm->mem.nregions);
	for (unsigned i = 0; i < vm->mem.nregions; i++) {
		snap_put_u64(b, vm->mem.regions[i].gpa);
		snap_put_u64(b, vm->mem.regions[i].size);
	}
	snap_put_u32(b, vm->ncpus);
	snap_put_u8(b, devs->rng != NULL);
	snap_put_u32(b, devs->nvhost_user);
	for (unsigned i = 0; i < devs->nvhost_user; i++) {
		char name[24] = {0};

		snprintf(name, sizeof(name), "%s", vu_device_name(devs->vhost_user[i]));
		snap_put_blob(b, name, sizeof(name));
		snap_put_u32(b, vu_device_type_id(devs->vhost_user[i]));
	}
}

static bool check_machine(struct vm *vm, struct vm_devices *devs, struct snap_reader *rd)
{
	uint8_t rng = 0;

	snap_expect_u64(rd, "memory size", vm->mem.total_size);
	snap_expect_u32(rd, "memory regions", vm->mem.nregions);
	for (unsigned i = 0; i < vm->mem.nregions; i++) {
		snap_expect_u64(rd, "region address", vm->mem.regions[i].gpa);
		snap_expect_u64(rd, "region size", vm->mem.regions[i].size);
	}
	snap_expect_u32(rd, "vcpus", vm->ncpus);
	if (snap_get_u8(rd, "rng", &rng) && rng != (devs->rng != NULL))
		snap_fail(rd, "rng", "%s in the snapshot, %s here", rng ? "present" : "absent",
			  devs->rng ? "present" : "absent");
	snap_expect_u32(rd, "vhost-user devices", devs->nvhost_user);
	for (unsigned i = 0; i < devs->nvhost_user && !rd->failed; i++) {
		const char *here = vu_device_name(devs->vhost_user[i]);
		char name[24];

		if (snap_get_blob(rd, "device name", name, sizeof(name)) &&
		    strncmp(name, here, sizeof(name)))
			snap_fail(rd, "device name", "device %u is %.23s in the snapshot, %s here",
				  i, name, here);
		snap_expect_u32(rd, "device type", vu_device_type_id(devs->vhost_user[i]));
	}
	return snap_reader_done(rd);
}

static int put_part(struct snap_dir *d, const char *name, struct snap_buf *b)
{
	int r = snap_dir_put(d, name, b);

	snap_buf_free(b);
	return r;
}

static int save_ram(struct vm *vm, struct snap_dir *d, struct snapshot_stats *st)
{
	struct snap_buf ext = {0};
	char name[16];
	int r = 0;

	for (unsigned i = 0; i < vm->mem.nregions && !r; i++) {
		size_t at = ext.len;

		snprintf(name, sizeof(name), "ram%u", i);
		r = snap_dir_put_ram(d, name, &vm->mem.regions[i], &ext);
		/* Each extent is 16 bytes after the 4-byte count; sum their lengths. */
		for (size_t o = at + 4; !r && o + 16 <= ext.len; o += 16) {
			uint64_t len;

			memcpy(&len, ext.data + o + 8, 8);
			st->ram_bytes += len;
		}
	}
	return r ? r : put_part(d, "memory", &ext);
}

static int save_vcpus(struct vm *vm, struct snap_dir *d)
{
	char name[16];
	int r = 0;

	for (unsigned i = 0; i < vm->ncpus && !r; i++) {
		struct snap_buf b = {0};

		snprintf(name, sizeof(name), "vcpu%u", i);
		r = arch_vcpu_save(&vm->vcpus[i], &b);
		if (r) {
			snprintf(d->err, sizeof(d->err), "part %s: cannot read the vCPU: %s", name,
				 strerror(-r));
			snap_buf_free(&b);
		} else {
			r = put_part(d, name, &b);
		}
	}
	return r;
}

static int save_vu_device(struct vu_device *dev, struct snap_dir *d)
{
	struct snap_buf b = {0}, sb = {0};
	uint8_t *state;
	size_t len;
	char name[SNAP_NAME_MAX];
	int r = vu_device_save(dev, &b, &state, &len, d->err, sizeof(d->err));

	snprintf(name, sizeof(name), "vu-%s", vu_device_name(dev));
	if (!r)
		r = put_part(d, name, &b);
	if (!r && state) {
		snap_put_bytes(&sb, state, len);
		snprintf(name, sizeof(name), "vu-%s.state", vu_device_name(dev));
		r = put_part(d, name, &sb);
	}
	snap_buf_free(&b);
	free(state);
	return r;
}

static int save_devices(struct vm *vm, struct vm_devices *devs, struct snap_dir *d)
{
	struct snap_buf b = {0};
	int r;

	pthread_mutex_lock(&vm->dev_lock);
	snap_put_u32(&b, devs->bus.config_address);
	pci_function_save(&devs->bus.host_bridge, &b);
	r = put_part(d, "pci", &b);
	if (!r && devs->rng) {
		virtio_rng_save(devs->rng, &b);
		r = put_part(d, "rng", &b);
	}
	for (unsigned i = 0; i < devs->nvhost_user && !r; i++)
		r = save_vu_device(devs->vhost_user[i], d);
	pthread_mutex_unlock(&vm->dev_lock);
	return r;
}

int vm_snapshot_save(struct vm *vm, struct vm_devices *devs, const char *path,
		     struct snapshot_stats *st, char *err, size_t n)
{
	uint64_t start = monotonic_ns();
	struct snap_dir d;
	struct snap_buf b = {0};
	int r = vm_snapshot_check(vm, devs, err, n);

	memset(st, 0, sizeof(*st));
	if (r)
		return r;
	r = snap_dir_create(&d, path);
	if (!r) {
		put_machine(vm, devs, &b);
		r = put_part(&d, "machine", &b);
	}
	if (!r)
		r = save_ram(vm, &d, st);
	if (!r)
		r = save_vcpus(vm, &d);
	if (!r) {
		r = arch_vm_save(vm, &b);
		r = r ? r : put_part(&d, "platform", &b);
		snap_buf_free(&b);
	}
	if (!r)
		r = save_devices(vm, devs, &d);
	if (!r)
		r = snap_dir_finish(&d);
	else
		snap_dir_close(&d);
	if (r)
		snprintf(err, n, "snapshot %s: %s", path, d.err[0] ? d.err : strerror(-r));
	st->ns = monotonic_ns() - start;
	return r;
}

/* What a restore works on. */
struct restore {
	struct vm *vm;
	struct vm_devices *devs;
	struct snap_dir *dir;
};

/* Reads state part name and runs load over it; every failure lands in err. */
typedef bool (*part_loader)(struct restore *rs, unsigned index, struct snap_reader *rd);

static int load_part(struct restore *rs, const char *name, part_loader load, unsigned index,
		     char *err, size_t n)
{
	struct snap_dir *d = rs->dir;
	uint64_t start = monotonic_ns();
	struct snap_reader rd;
	uint8_t *data;
	size_t len;
	int r = snap_dir_read(d, name, &data, &len);

	if (r) {
		snprintf(err, n, "%s", d->err);
		return r;
	}
	snap_reader_init(&rd, name, data, len);
	if (!load(rs, index, &rd) || !snap_reader_done(&rd)) {
		snprintf(err, n, "%s", rd.err);
		r = -EINVAL;
	}
	free(data);
	log_debug("snapshot", "part %s loaded in %.1f ms", name,
		  (double)(monotonic_ns() - start) / 1e6);
	return r;
}

static bool load_machine(struct restore *rs, unsigned i, struct snap_reader *rd)
{
	(void)i;
	return check_machine(rs->vm, rs->devs, rd);
}

static bool load_memory(struct restore *rs, unsigned i, struct snap_reader *rd)
{
	struct vm *vm = rs->vm;
	struct snap_dir *d = rs->dir;
	char name[16];

	(void)i;
	for (unsigned k = 0; k < vm->mem.nregions; k++) {
		snprintf(name, sizeof(name), "ram%u", k);
		if (snap_dir_load_ram(d, name, &vm->mem.regions[k], rd)) {
			/* d->err already names the part; keep it as the one line. */
			snprintf(rd->err, sizeof(rd->err), "%s", d->err);
			rd->failed = true;
			return false;
		}
	}
	return true;
}

static bool load_vcpu(struct restore *rs, unsigned i, struct snap_reader *rd)
{
	return arch_vcpu_load(&rs->vm->vcpus[i], rd) == 0;
}

static bool load_platform(struct restore *rs, unsigned i, struct snap_reader *rd)
{
	(void)i;
	return arch_vm_load(rs->vm, rd) == 0;
}

static bool load_pci(struct restore *rs, unsigned i, struct snap_reader *rd)
{
	(void)i;
	return snap_get_u32(rd, "config address", &rs->devs->bus.config_address) &&
	       pci_function_load(&rs->devs->bus.host_bridge, rd);
}

static bool load_rng(struct restore *rs, unsigned i, struct snap_reader *rd)
{
	(void)i;
	return virtio_rng_load(rs->devs->rng, rd);
}

static bool load_vu(struct restore *rs, unsigned i, struct snap_reader *rd)
{
	struct snap_dir *d = rs->dir;
	struct vu_device *dev = rs->devs->vhost_user[i];
	char name[SNAP_NAME_MAX];
	uint8_t *state = NULL;
	size_t len = 0;
	bool ok;

	snprintf(name, sizeof(name), "vu-%s.state", vu_device_name(dev));
	if (snap_dir_find(d, name) && snap_dir_read(d, name, &state, &len))
		return snap_fail(rd, "device state", "%s", d->err);
	ok = vu_device_load(dev, rd, state, len) == 0;
	free(state);
	return ok;
}

static int restore_devices(struct restore *rs, char *err, size_t n)
{
	char name[SNAP_NAME_MAX];
	int r = load_part(rs, "pci", load_pci, 0, err, n);

	if (!r && rs->devs->rng)
		r = load_part(rs, "rng", load_rng, 0, err, n);
	for (unsigned i = 0; i < rs->devs->nvhost_user && !r; i++) {
		snprintf(name, sizeof(name), "vu-%s", vu_device_name(rs->devs->vhost_user[i]));
		r = load_part(rs, name, load_vu, i, err, n);
	}
	return r;
}

int vm_snapshot_restore(struct vm *vm, struct vm_devices *devs, const char *path, char *err,
			size_t n)
{
	struct snap_dir d;
	char name[16];
	int r = snap_dir_open(&d, path);

	if (r) {
		snprintf(err, n, "%s", d.err);
		snap_dir_close(&d);
		return r;
	}
	struct restore rs = {.vm = vm, .devs = devs, .dir = &d};

	/* Devices last: their rings start on RAM, vCPUs and interrupt state already in place. */
	r = load_part(&rs, "machine", load_machine, 0, err, n);
	if (!r)
		r = load_part(&rs, "memory", load_memory, 0, err, n);
	for (unsigned i = 0; i < vm->ncpus && !r; i++) {
		snprintf(name, sizeof(name), "vcpu%u", i);
		r = load_part(&rs, name, load_vcpu, i, err, n);
	}
	if (!r)
		r = load_part(&rs, "platform", load_platform, 0, err, n);
	if (!r) {
		pthread_mutex_lock(&vm->dev_lock);
		r = restore_devices(&rs, err, n);
		pthread_mutex_unlock(&vm->dev_lock);
	}
	snap_dir_close(&d);
	return r;
}
