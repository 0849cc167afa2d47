#!/bin/sh
# Hostile vhost-user-blk back-ends (tests/boot/hostile): whatever they do,
# the guest must keep running and reach its verdict. For every virtio-blk
# device (numbered in PCI order, as the VMM numbers blk0, blk1, ...) it
# reports the device status and whether disk I/O works: after the driver
# bound (io1), after the back-ends had time to misbehave (io2), and the
# status once the driver unbound (a device reset) and bound again. I/O that hangs is
# reported as such, never waited for. $1: number of devices expected.
want=${1:-1}
say() { echo "VMM-GUEST: hostile: $*"; }

# Virtio-blk devices sorted by PCI address: "virtioN" per line.
blk_devices() {
	for d in /sys/bus/virtio/devices/virtio*; do
		[ "$(cat "$d/device")" = 0x0002 ] || continue
		echo "$(basename "$(dirname "$(readlink -f "$d")")") $(basename "$d")"
	done | sort | cut -d' ' -f2
}

disk_of() { ls "/sys/bus/virtio/devices/$1/block" 2>/dev/null | head -n 1; }

# Writes 64 KiB at 64 KiB and reads it back past the page cache.
io_check() {
	dd if=/dev/urandom of="/tmp/$1.pat" bs=4096 count=16 2>/dev/null
	dd if="/tmp/$1.pat" of="/dev/$1" bs=4096 seek=16 oflag=direct conv=fsync 2>/dev/null ||
		{ echo fail-write && return; }
	dd if="/dev/$1" of="/tmp/$1.back" bs=4096 skip=16 count=16 iflag=direct 2>/dev/null ||
		{ echo fail-read && return; }
	cmp -s "/tmp/$1.pat" "/tmp/$1.back" && echo ok || echo fail-compare
}

# One I/O round on every disk in parallel, bounded: results in /tmp/io.DISK.
io_round() {
	for v in $(blk_devices); do
		disk=$(disk_of "$v")
		[ -n "$disk" ] || continue
		rm -f "/tmp/io.$disk"
		(io_check "$disk" >"/tmp/io.$disk.new" && mv "/tmp/io.$disk.new" "/tmp/io.$disk") &
	done
	for _ in $(seq 25); do
		[ -z "$(ls /tmp/io.*.new 2>/dev/null)" ] && break
		sleep 0.2
	done
}

io_result() {
	disk=$(disk_of "$1")
	if [ -z "$disk" ]; then echo none
	elif [ -f "/tmp/io.$disk" ]; then cat "/tmp/io.$disk"
	else echo hung
	fi
}

report() {
	k=0
	for v in $(blk_devices); do
		say "$1 dev $k $v disk=$(disk_of "$v") status=$(cat "/sys/bus/virtio/devices/$v/status") io=$(io_result "$v")"
		k=$((k + 1))
	done
}

modprobe virtio_pci
# A probe stuck on a broken device must not stop the test.
modprobe virtio_blk async_probe=1 &
for _ in $(seq 40); do
	n=0 settled=0
	settled=0
	for v in $(blk_devices); do
		[ -n "$(disk_of "$v")" ] && n=$((n + 1))
		# A disk, or a device that failed (NEEDS_RESET 0x40, FAILED 0x80): nothing more to wait for.
		{ [ -n "$(disk_of "$v")" ] || [ $(($(cat "/sys/bus/virtio/devices/$v/status") & 0xc0)) -ne 0 ]; } &&
			settled=$((settled + 1))
	done
	[ "$settled" -ge "$want" ] && break
	sleep 0.25
done
say "$(blk_devices | wc -l) virtio-blk devices, $n with a disk"
io_round
report io1
# A writable cache mode (only the stops-reading back-end offers one): flip
# it far more often than a socket buffer holds SET_CONFIGs, in the
# background, as a guest looping on sysfs would.
for f in /sys/block/vd*/cache_type; do
	[ -w "$f" ] || continue
	(for i in $(seq 1000); do echo "write through" >"$f"; echo "write back" >"$f"; done) 2>/dev/null &
done
# Run-time misdeeds fire after the first disk requests; give them time to land.
sleep 2
io_round
report io2
# Unbinding resets every device (GET_VRING_BASE); a disk with hung I/O would block it.
if grep -q hung /tmp/io.* 2>/dev/null || [ -n "$(ls /tmp/io.*.new 2>/dev/null)" ]; then
	say "rmmod skipped: a disk has hung I/O"
else
	(rmmod virtio_blk && echo "done" >/tmp/rmmod) &
	for _ in $(seq 50); do
		[ -f /tmp/rmmod ] && break
		sleep 0.2
	done
	say "rmmod $(cat /tmp/rmmod 2>/dev/null || echo hung)"
fi
# A device whose reset failed stays failed: binding the driver again shows
# NEEDS_RESET when it tries to activate (status reads 0 right after a reset).
modprobe virtio_blk async_probe=1 &
sleep 3
k=0
for v in $(blk_devices); do
	say "reset dev $k $v status=$(cat "/sys/bus/virtio/devices/$v/status")"
	k=$((k + 1))
done
say "guest alive, uptime $(cut -d' ' -f1 /proc/uptime)"
say "PASS"
