/* A struct vm without KVM, and guest RAM for tools that play the driver. */
#include "tests/lib/fake_vm.h"

#include <errno.h>
#include <event2/event.h>
#include <string.h>

int test_vm_init(struct vm *vm, const struct ram_range *ranges, unsigned n)
{
	int err;

	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = vm->wake_fd = vm->stop_fd = -1;
	io_bus_init(&vm->pio, "pio");
	io_bus_init(&vm->mmio, "mmio");
	err = guest_memory_init(&vm->mem, ranges, n);
	if (err)
		return err;
	vm->evbase = event_base_new();
	if (!vm->evbase) {
		guest_memory_destroy(&vm->mem);
		return -ENOMEM;
	}
	pthread_mutex_init(&vm->dev_lock, NULL);
	return 0;
}

void test_vm_destroy(struct vm *vm)
{
	event_base_free(vm->evbase);
	vm->evbase = NULL;
	guest_memory_destroy(&vm->mem);
	pthread_mutex_destroy(&vm->dev_lock);
}

int test_guest_ram_split(struct guest_memory *mem, uint64_t data_gpa)
{
	const struct ram_range ranges[] = {{0, TEST_RAM_REGION_SIZE},
					   {data_gpa, TEST_RAM_REGION_SIZE}};

	if (data_gpa < TEST_RAM_REGION_SIZE)
		return -EINVAL;
	return guest_memory_init(mem, ranges, 2);
}
