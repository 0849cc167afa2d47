#!/bin/sh
# A vhost-user device with a VIRTIO shared-memory region (type 63, served by
# build/tools/vu-shmem-backend): the guest finds region 0 through the
# shared-memory capability, reads the back-end's pattern through the BAR and
# writes the value the back-end checks (the host test then looks for
# "guest value seen" in the back-end's output).
fail() {
	echo "VMM-GUEST: shmem: FAIL: $*"
	exit 1
}

modprobe virtio_pci || fail "modprobe virtio_pci"
shmem-bar || fail "shmem-bar"
echo "VMM-GUEST: shmem: PASS"
