/* A struct vm without KVM, and guest RAM for tools that play the driver. */
#ifndef TESTS_LIB_FAKE_VM_H
#define TESTS_LIB_FAKE_VM_H

#include <stdint.h>

#include "vmm/memory.h"
#include "vmm/vm.h"

/* Size of each region test_guest_ram_split lays out. */
#define TEST_RAM_REGION_SIZE (8u << 20)

/*
 * Fills vm with what device models touch outside KVM: memfd guest RAM over
 * ranges, empty pio/mmio buses, the device lock and an event loop. The KVM
 * and wake fds are -1, so nothing mistakes them for real ones. Returns 0 or
 * -errno; on failure vm holds nothing to free.
 */
int test_vm_init(struct vm *vm, const struct ram_range *ranges, unsigned n);
void test_vm_destroy(struct vm *vm);

/*
 * Guest RAM in two regions, rings at 0 and data at data_gpa (each
 * TEST_RAM_REGION_SIZE), so a backend's address translation has to cross
 * regions. Returns 0 or -errno.
 */
int test_guest_ram_split(struct guest_memory *mem, uint64_t data_gpa);

#endif
