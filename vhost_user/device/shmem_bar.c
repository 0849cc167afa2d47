/*
 * A vhost-user device's VIRTIO shared-memory regions: sized by
 * GET_SHMEM_CONFIG, shown to the guest as 64-bit BARs, filled by the
 * back-end's SHMEM_MAP requests as KVM memory slots over its fds.
 */
#include "vhost_user/device/internal.h"

#include <errno.h>
#include <linux/kvm.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/log.h"
#include "vmm/vm.h"

#define STARTUP_QUIET_MS 200
#define STARTUP_MAX_REQUESTS 64

/* The live mapping at gpa of size bytes, or with host_wanted false a free entry. */
static struct vu_shmem_slot *find_slot(struct vu_device *dev, bool host_wanted, uint64_t gpa,
				       uint64_t size)
{
	for (unsigned i = 0; i < VU_SHMEM_MAX_SLOTS; i++) {
		struct vu_shmem_slot *s = &dev->shmem.slots[i];

		if (host_wanted ? s->host && s->gpa == gpa && s->size == size : !s->host)
			return s;
	}
	return NULL;
}

/* vhost_user_shmem_ops.map: the fd's pages become guest memory at gpa. */
static int kvm_map(void *opaque, uint64_t gpa, uint64_t size, int fd, uint64_t fd_offset, int prot)
{
	struct vu_device *dev = opaque;
	struct vu_shmem_slot *s = find_slot(dev, false, 0, 0);
	uint32_t flags = prot & PROT_WRITE ? 0 : KVM_MEM_READONLY;
	void *host;
	int err;

	if (!s)
		return -ENOSPC; /* more live mappings than we keep KVM slots for */
	host = mmap(NULL, size, prot, MAP_SHARED, fd, (off_t)fd_offset);
	if (host == MAP_FAILED)
		return -errno;
	err = vm_map_memory_flags(dev->vm, gpa, size, host, flags, &s->slot);
	if (err) {
		munmap(host, size);
		return err;
	}
	*s = (struct vu_shmem_slot){.gpa = gpa, .size = size, .host = host, .slot = s->slot};
	log_debug(dev->fe.log_component, "%s: shared memory 0x%llx+0x%llx mapped (%s)", dev->name,
		  (unsigned long long)gpa, (unsigned long long)size,
		  flags ? "read-only" : "read-write");
	return 0;
}

static int kvm_unmap(void *opaque, uint64_t gpa, uint64_t size)
{
	struct vu_device *dev = opaque;
	struct vu_shmem_slot *s = find_slot(dev, true, gpa, size);
	int err;

	if (!s)
		return -ENOENT;
	err = vm_unmap_memory(dev->vm, s->slot);
	munmap(s->host, s->size);
	*s = (struct vu_shmem_slot){0};
	return err;
}

static const struct vhost_user_shmem_ops kvm_shmem_ops = {.map = kvm_map, .unmap = kvm_unmap};

/*
 * A back-end fills its regions right after GET_SHMEM_CONFIG and waits for
 * each answer; the loop only starts once the whole VM is built, so serve
 * what arrives now (until STARTUP_QUIET_MS pass without a request).
 */
static void serve_startup_requests(struct vu_device *dev)
{
	for (unsigned i = 0; i < STARTUP_MAX_REQUESTS && dev->fe.backend_fd >= 0; i++) {
		struct pollfd pfd = {.fd = dev->fe.backend_fd, .events = POLLIN};

		if (poll(&pfd, 1, STARTUP_QUIET_MS) <= 0)
			return;
		vhost_user_frontend_handle_backend_request(&dev->fe);
	}
}

/* vm_fault_fn: a mapping whose file shrank is this device's failure, not the VM's end. */
static bool shmem_fault(void *opaque)
{
	struct vu_device *dev = opaque;

	if (!dev->shmem.on || !vhost_user_shmem_drop_shrunk(&dev->shmem.regions))
		return false;
	vu_fail_device(dev, "a shared-memory file shrank under the guest");
	return true;
}

int vu_shmem_setup(struct vu_device *dev, char *err, size_t n)
{
	uint64_t sizes[VHOST_USER_SHMEM_MAX_IDS];
	unsigned nregions = 0, used = 0;
	int r;

	if (!vhost_user_frontend_has_protocol(&dev->fe, VHOST_USER_PROTOCOL_F_SHMEM))
		return 0;
	/* Logs its own line on a bad reply. */
	r = vhost_user_frontend_get_shmem_config(&dev->fe, sizes, VHOST_USER_SHMEM_MAX_IDS,
						 dev->shmem.window, &nregions);
	if (r)
		return r;
	for (unsigned id = 0; id < nregions; id++) {
		if (!sizes[id])
			continue;
		if (used == VIRTIO_PCI_MAX_SHMEM) {
			snprintf(err, n, "%s: more than %u shared-memory regions", dev->name,
				 VIRTIO_PCI_MAX_SHMEM);
			return -ENOSPC;
		}
		dev->shmem.bars[used].id = (uint8_t)id;
		dev->shmem.bars[used++].size = sizes[id];
	}
	r = vhost_user_shmem_init(&dev->shmem.regions, dev->name, sizes, nregions, &kvm_shmem_ops,
				  dev);
	if (r) {
		snprintf(err, n, "%s: bad shared-memory configuration", dev->name);
		return r;
	}
	dev->shmem.nbars = used;
	r = vm_add_fault_handler(dev->vm, shmem_fault, dev);
	if (r) {
		snprintf(err, n, "%s: too many devices with shared memory", dev->name);
		return r;
	}
	dev->shmem.on = true;
	serve_startup_requests(dev);
	for (unsigned i = 0; i < used; i++)
		log_info(dev->fe.log_component, "%s: shared-memory region %u: %llu KiB", dev->name,
			 dev->shmem.bars[i].id,
			 (unsigned long long)(dev->shmem.bars[i].size >> 10));
	return 0;
}

void vu_shmem_fill_params(const struct vu_device *dev, struct virtio_pci_shmem_params *p)
{
	*p = (struct virtio_pci_shmem_params){.nregions = dev->shmem.nbars,
					      .placed = vu_shmem_placed};
	for (unsigned i = 0; i < dev->shmem.nbars; i++) {
		p->regions[i].id = dev->shmem.bars[i].id;
		p->regions[i].size = dev->shmem.bars[i].size;
	}
}

void vu_shmem_placed(void *opaque, unsigned shmid, uint64_t gpa)
{
	struct vu_device *dev = opaque;
	int err;

	if (!dev->shmem.on)
		return;
	err =
	    vhost_user_shmem_place(&dev->shmem.regions, shmid,
				   gpa == VIRTIO_PCI_SHMEM_NO_ADDR ? VHOST_USER_SHMEM_NO_GPA : gpa);
	if (err)
		log_warn_ratelimited(&dev->rl, dev->fe.log_component,
				     "%s: shared-memory region %u at 0x%llx: %s; left unmapped",
				     dev->name, shmid, (unsigned long long)gpa, strerror(-err));
}

static unsigned count_mappings(const struct vhost_user_shmem *s)
{
	unsigned n = 0;

	for (unsigned i = 0; i < s->nregions; i++)
		n += s->regions[i].nmaps;
	return n;
}

void vu_shmem_release(struct vu_device *dev, const char *why)
{
	vu_shmem_reset(dev, why);
	if (dev->vm)
		vm_remove_fault_handler(dev->vm, dev);
}

void vu_shmem_reset(struct vu_device *dev, const char *why)
{
	unsigned n;

	if (!dev->shmem.on)
		return;
	n = count_mappings(&dev->shmem.regions);
	vhost_user_shmem_reset(&dev->shmem.regions);
	if (n)
		log_info(dev->fe.log_component, "%s: %s: unmapped %u shared-memory mapping%s",
			 dev->name, why, n, n == 1 ? "" : "s");
}

int vu_shmem_backend_map(struct vu_device *dev, const struct vhost_user_shmem_map *map, int fd)
{
	if (!dev->shmem.on) {
		close(fd);
		return -ENOTSUP;
	}
	return vhost_user_shmem_map(&dev->shmem.regions, map, fd);
}

int vu_shmem_backend_unmap(struct vu_device *dev, const struct vhost_user_shmem_map *map)
{
	return dev->shmem.on ? vhost_user_shmem_unmap(&dev->shmem.regions, map) : -ENOTSUP;
}
