#!/bin/sh
# The back-end dies while the guest uses the disk: I/O works, the host kills
# the back-end and types a line, then I/O must fail with an error (not hang)
# and the guest must go on running.
fail() {
	echo "VMM-GUEST: killed: FAIL: $*"
	exit 1
}

modprobe virtio_pci || fail "modprobe virtio_pci"
modprobe virtio_blk || fail "modprobe virtio_blk"
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/vda ] && break; sleep 0.5; done
[ -b /dev/vda ] || fail "no /dev/vda"
dd if=/dev/urandom of=/dev/vda bs=4096 count=16 oflag=direct conv=fsync 2>/dev/null || fail "first write"
dd if=/dev/vda of=/dev/null bs=4096 count=16 iflag=direct 2>/dev/null || fail "first read"
echo "VMM-GUEST: killed: ready"
read -r _
if dd if=/dev/vda of=/dev/null bs=4096 skip=100 count=1 iflag=direct 2>/tmp/err; then
	fail "read after the back-end died succeeded"
fi
echo "VMM-GUEST: killed: read failed: $(tail -n 1 /tmp/err)"
if dd if=/dev/zero of=/dev/vda bs=4096 seek=100 count=1 oflag=direct 2>/tmp/err; then
	fail "write after the back-end died succeeded"
fi
echo "VMM-GUEST: killed: write failed: $(tail -n 1 /tmp/err)"
echo "VMM-GUEST: killed: guest still alive, uptime $(cut -d' ' -f1 /proc/uptime)"
echo "VMM-GUEST: killed: PASS"
