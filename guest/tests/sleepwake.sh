#!/bin/sh
# Sleep and wake under load: writes and verifies 64 KiB blocks in 8 slots of
# /dev/vda continuously while the host pauses and resumes the VM; stops when
# the host types a line on the console. Every write is read back at once,
# all slots again at the end, and their checksums are printed for the host
# to compare with the image file: no error, no lost or stale write.
# With $1 = all, a virtiofs mount and a net device must also work afterwards.
fail() {
	echo "VMM-GUEST: sleepwake: FAIL: $*"
	exit 1
}

writer() {
	round=0
	while [ ! -e /tmp/stop ]; do
		slot=$((round % 8))
		dd if=/dev/urandom of=/tmp/w bs=4096 count=16 2>/dev/null || return 1
		dd if=/tmp/w of=/dev/vda bs=4096 seek=$((slot * 16)) oflag=direct conv=fsync 2>/dev/null ||
			{ echo "VMM-GUEST: sleepwake: write error in round $round" && return 1; }
		want=$(sha256sum </tmp/w | cut -d' ' -f1)
		got=$(dd if=/dev/vda bs=4096 skip=$((slot * 16)) count=16 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
		[ "$want" = "$got" ] || { echo "VMM-GUEST: sleepwake: round $round slot $slot reads $got, wrote $want" && return 1; }
		echo "$want" >/tmp/slot$slot
		round=$((round + 1))
	done
	echo "$round" >/tmp/rounds
}

modprobe virtio_pci || fail "modprobe virtio_pci"
modprobe virtio_blk || fail "modprobe virtio_blk"
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/vda ] && break; sleep 0.5; done
[ -b /dev/vda ] || fail "no /dev/vda"
# $1 = all: a virtiofs mount (tag hostfs) and a net device paused with the disk.
if [ "$1" = all ]; then
	modprobe virtiofs || fail "modprobe virtiofs"
	modprobe virtio_net || fail "modprobe virtio_net"
	mkdir -p /mnt
	mount -t virtiofs hostfs /mnt || fail "mount"
	echo before >/mnt/before || fail "fs write before"
	for _ in 1 2 3 4 5 6 7 8 9 10; do [ -e /sys/class/net/eth0 ] && break; sleep 0.5; done
	ip link set eth0 up || fail "eth0 up"
	ip addr add 10.0.2.15/24 dev eth0 || fail "eth0 address"
	arp -s 10.0.2.99 02:00:00:00:00:99 || fail "arp -s"
	ping -c 3 -i 0.2 -W 1 10.0.2.99 >/dev/null 2>&1
fi
writer &
pid=$!
sleep 1
echo "VMM-GUEST: sleepwake: writing"
read -r _
touch /tmp/stop
wait $pid || fail "the writer failed"
rounds=$(cat /tmp/rounds)
[ "$rounds" -ge 8 ] || fail "only $rounds rounds"
echo 3 >/proc/sys/vm/drop_caches
for slot in 0 1 2 3 4 5 6 7; do
	got=$(dd if=/dev/vda bs=4096 skip=$((slot * 16)) count=16 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
	[ "$got" = "$(cat /tmp/slot$slot)" ] || fail "slot $slot changed to $got"
	echo "VMM-GUEST: sleepwake: slot $slot $got"
done
if [ "$1" = all ]; then
	[ "$(cat /mnt/before)" = before ] || fail "fs file lost across pauses"
	echo after >/mnt/after || fail "fs write after"
	umount /mnt || fail "umount"
	rx0=$(cat /sys/class/net/eth0/statistics/rx_packets)
	ping -c 10 -i 0.1 -W 1 10.0.2.99 >/dev/null 2>&1
	sleep 1
	rx=$(($(cat /sys/class/net/eth0/statistics/rx_packets) - rx0))
	[ "$rx" -ge 10 ] || fail "net: $rx of 10 frames came back after the pauses"
	echo "VMM-GUEST: sleepwake: fs and net work after the pauses ($rx frames back)"
fi
echo "VMM-GUEST: sleepwake: $rounds rounds"
echo "VMM-GUEST: sleepwake: PASS"
