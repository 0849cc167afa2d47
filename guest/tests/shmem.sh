#!/bin/sh
# A vhost-user device with a VIRTIO shared-memory region (type 63, served by
# build/tools/vu-shmem-backend): the guest finds region 0 through the
# shared-memory capability and reads the back-end's pattern through the BAR.
# Without an argument it then writes the value the back-end checks (the host
# test looks for "guest value seen" in the back-end's output) and waits for
# the back-end's unmap to show as zeros; with $1 = reset it activates and
# resets the device instead, after which the region must read zeros.
fail() {
	echo "VMM-GUEST: shmem: FAIL: $*"
	exit 1
}

modprobe virtio_pci || fail "modprobe virtio_pci"
shmem-bar "$1" || fail "shmem-bar $1"
echo "VMM-GUEST: shmem: PASS"
