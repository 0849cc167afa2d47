#!/bin/sh
# vhost-user-blk: writes 1 MiB of random data at offset 1 MiB with O_DIRECT,
# reads it back past the page cache and compares checksums; prints the
# checksum so the host can compare the back-end's image file. Then unbinds
# and rebinds the driver: the device resets and comes up again.
fail() {
	echo "VMM-GUEST: blk: FAIL: $*"
	exit 1
}

modprobe virtio_pci || fail "modprobe virtio_pci"
modprobe virtio_blk || fail "modprobe virtio_blk"
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/vda ] && break; sleep 0.5; done
[ -b /dev/vda ] || fail "no /dev/vda"
echo "VMM-GUEST: blk: /dev/vda $(cat /sys/block/vda/size) sectors"
dd if=/dev/urandom of=/tmp/pattern bs=4096 count=256 2>/dev/null || fail "urandom"
dd if=/tmp/pattern of=/dev/vda bs=4096 seek=256 oflag=direct conv=fsync 2>/dev/null ||
	fail "write to /dev/vda"
sync
echo 3 >/proc/sys/vm/drop_caches
dd if=/dev/vda of=/tmp/back bs=4096 skip=256 count=256 iflag=direct 2>/dev/null ||
	fail "read from /dev/vda"
want=$(sha256sum </tmp/pattern | cut -d' ' -f1)
got=$(sha256sum </tmp/back | cut -d' ' -f1)
[ "$want" = "$got" ] || fail "read back $got, wrote $want"
echo "VMM-GUEST: blk: sha256 $want"
# A driver unbind resets the device (rings stopped); binding again must bring it back.
rmmod virtio_blk || fail "rmmod virtio_blk"
modprobe virtio_blk || fail "modprobe virtio_blk again"
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/vda ] && break; sleep 0.5; done
again=$(dd if=/dev/vda bs=4096 skip=256 count=256 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
[ "$again" = "$want" ] || fail "after a device reset the data reads $again"
echo "VMM-GUEST: blk: device reset and re-activated"
grep 'virtio' /proc/interrupts | grep -q 'PCI-MSI' || fail "no MSI-X interrupts for virtio"
echo "VMM-GUEST: blk: PASS"
