#!/bin/sh
# Snapshot with vhost-user-blk: writes 1 MiB at offset 1 MiB with O_DIRECT,
# says "ready" and waits for a console line. The host snapshots, kills the
# VMM and its back-end, restores a new VMM on a new back-end and types a
# line: the first write must read back, and a second 1 MiB at offset 2 MiB
# must reach the image (both checksums are printed for the host to compare).
fail() {
	echo "VMM-GUEST: snapblk: FAIL: $*"
	exit 1
}

modprobe virtio_pci || fail "modprobe virtio_pci"
modprobe virtio_blk || fail "modprobe virtio_blk"
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/vda ] && break; sleep 0.5; done
[ -b /dev/vda ] || fail "no /dev/vda"
dd if=/dev/urandom of=/tmp/one bs=4096 count=256 2>/dev/null || fail "urandom"
dd if=/tmp/one of=/dev/vda bs=4096 seek=256 oflag=direct conv=fsync 2>/dev/null || fail "write 1"
one=$(sha256sum </tmp/one | cut -d' ' -f1)
echo "VMM-GUEST: snapblk: ready sha256 $one"
read -r _
got=$(dd if=/dev/vda bs=4096 skip=256 count=256 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
[ "$got" = "$one" ] || fail "after restore the first write reads $got, wrote $one"
dd if=/dev/urandom of=/tmp/two bs=4096 count=256 2>/dev/null || fail "urandom"
dd if=/tmp/two of=/dev/vda bs=4096 seek=512 oflag=direct conv=fsync 2>/dev/null || fail "write 2"
echo "VMM-GUEST: snapblk: after sha256 $(sha256sum </tmp/two | cut -d' ' -f1)"
echo "VMM-GUEST: snapblk: PASS"
