#!/bin/sh
# A device that failed for good (its back-end stayed away past
# reconnect-timeout) gets a fresh try when the guest resets it
# (tests/boot/vhost_user reconnect_reset): I/O fails while it is failed,
# then, once the host restarted the back-end and typed a line, the driver
# is unbound and bound again (a reset of the device) and I/O works.
TEST=reconnect_reset
# shellcheck source=guest/tests/lib.sh
. /tests/lib.sh

io_ok() {
	yes "generation $1" | head -c 4096 >/tmp/w
	dd if=/tmp/w of=/dev/vda bs=4096 count=1 oflag=direct conv=fsync 2>/dev/null &&
		dd if=/dev/vda of=/tmp/r bs=4096 count=1 iflag=direct 2>/dev/null && cmp -s /tmp/w /tmp/r
}

modprobe virtio_pci || fail "modprobe virtio_pci"
modprobe virtio_blk || fail "modprobe virtio_blk"
for _ in $(seq 20); do [ -b /dev/vda ] && break; sleep 0.5; done
[ -b /dev/vda ] || fail "no /dev/vda"
io_ok 1 || fail "I/O before the back-end went away"
dev=$(basename "$(readlink /sys/block/vda/device)")
echo "VMM-GUEST: reconnect_reset: ready ($dev)"
read -r _
within 30 sh -c 'yes x | head -c 4096 | dd of=/dev/vda bs=4096 count=1 oflag=direct 2>/dev/null' &&
	fail "a write succeeded on the failed device"
echo "VMM-GUEST: reconnect_reset: I/O fails on the failed device"
read -r _
within 30 sh -c "echo $dev >/sys/bus/virtio/drivers/virtio_blk/unbind" || fail "unbind $dev"
within 30 sh -c "echo $dev >/sys/bus/virtio/drivers/virtio_blk/bind" || fail "bind $dev"
for _ in $(seq 40); do [ -b /dev/vda ] && break; sleep 0.5; done
[ -b /dev/vda ] || fail "no /dev/vda after the rebind"
ok=
for _ in $(seq 20); do io_ok 2 && ok=1 && break; sleep 1; done
[ -n "$ok" ] || fail "I/O still fails after the rebind"
echo "VMM-GUEST: reconnect_reset: I/O works again after the rebind"
echo "VMM-GUEST: reconnect_reset: PASS"
