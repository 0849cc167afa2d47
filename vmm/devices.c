/* Builds the PCI bus and the devices on it from the configuration. */
#include "vmm/devices.h"

#include <string.h>

#include "arch/arch.h"
#include "pci/pci.h"
#include "vhost_user/device/device.h"
#include "virtio/rng.h"
#include "vmm/log.h"
#include "vmm/vm.h"

static int bus_create(struct vm *vm, struct vm_devices *devs)
{
	struct pci_windows w;
	int r;

	arch_pci_windows(&w);
	r = pci_bus_init(&devs->bus, vm, &w);
	if (r) {
		log_error("pci", "cannot create the PCI bus: %s", strerror(-r));
		return r;
	}
	devs->bus_ready = true;
	vm->pci_enabled = true;
	return 0;
}

static int trace_open(const struct vm_config *cfg, struct vm_devices *devs)
{
	int r;

	if (!cfg->trace_vhost_user && !cfg->trace_file)
		return 0;
	r = vhost_user_trace_open(&devs->trace, cfg->trace_vhost_user ? stderr : NULL,
				  cfg->trace_file);
	if (r) {
		log_error("trace", "cannot open --trace-file '%s': %s", cfg->trace_file,
			  strerror(-r));
		return r;
	}
	devs->trace_open = true;
	return 0;
}

int vm_devices_create(struct vm *vm, struct vm_devices *devs)
{
	int r;

	memset(devs, 0, sizeof(*devs));
	r = bus_create(vm, devs);
	if (r)
		return r;
	if (vm->cfg->rng) {
		r = virtio_rng_create(vm, &devs->bus, NULL, &devs->rng);
		if (r) {
			log_error("virtio-rng", "cannot create the device: %s", strerror(-r));
			return r;
		}
	}
	r = trace_open(vm->cfg, devs);
	if (r)
		return r;
	/* Each failure was logged by the device with its name, step and field. */
	for (unsigned i = 0; i < vm->cfg->nvhost_user; i++) {
		r = vu_device_create(vm, &devs->bus, vm->cfg->vhost_user[i].spec,
				     devs->trace_open ? &devs->trace : NULL, devs->vhost_user,
				     devs->nvhost_user, &devs->vhost_user[devs->nvhost_user]);
		if (r)
			return r;
		devs->nvhost_user++;
	}
	return 0;
}

void vm_devices_destroy(struct vm_devices *devs)
{
	if (devs->bus_ready)
		pci_bus_destroy(&devs->bus);
	if (devs->rng)
		virtio_rng_destroy(devs->rng);
	for (unsigned i = 0; i < devs->nvhost_user; i++)
		vu_device_destroy(devs->vhost_user[i]);
	devs->nvhost_user = 0;
	if (devs->trace_open)
		vhost_user_trace_close(&devs->trace);
	devs->trace_open = false;
}
