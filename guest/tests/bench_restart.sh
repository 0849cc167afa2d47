#!/bin/sh
# Back-end restart benchmark guest (tools/bench): one 4 KiB O_DIRECT write
# after another on /dev/vda; a write that took 250 ms or more (it waited
# for a restarted back-end) prints its line at once, so the host sees when
# the first request after the restart completed. Stops when the host types
# a line; powers off.
fail() {
	echo "VMM-GUEST: restart: FAIL: $*"
	poweroff -f
}

# Milliseconds since boot into MS, with shell builtins only: a fork here
# would be counted in the figure (tens of ms under nested emulation).
now_ms() {
	read -r up _ </proc/uptime
	MS=$((${up%.*} * 1000 + (1${up#*.} - 100) * 10))
}

modprobe virtio_pci || fail "modprobe virtio_pci"
modprobe virtio_blk || fail "modprobe virtio_blk"
for _ in $(seq 20); do [ -b /dev/vda ] && break; sleep 0.5; done
[ -b /dev/vda ] || fail "no /dev/vda"
head -c 4096 /dev/zero >/tmp/block
(
	k=0
	while [ ! -f /tmp/stop ]; do
		now_ms
		t0=$MS
		dd if=/tmp/block of=/dev/vda bs=4096 seek=$((k % 256)) count=1 oflag=direct 2>/dev/null ||
			fail "write $k"
		now_ms
		t=$((MS - t0))
		[ "$t" -lt 250 ] || echo "VMM-GUEST: restart: stalled write done after $t ms"
		k=$((k + 1))
	done
	touch /tmp/done
) &
echo "VMM-GUEST: restart: writing"
read -r _
touch /tmp/stop
for _ in $(seq 100); do [ -f /tmp/done ] && break; sleep 0.1; done
echo "VMM-GUEST: restart: done"
poweroff -f
