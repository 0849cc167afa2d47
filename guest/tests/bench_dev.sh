#!/bin/sh
# Device benchmark guest (tools/bench): virtio-rng read rate, then O_DIRECT
# 4 KiB disk I/O on /dev/vda ($1 = seconds per phase, "RNG,BLK"), then idles
# until the host, done pausing and resuming the VM, types a line; powers off.
fail() {
	echo "VMM-GUEST: bench: FAIL: $*"
	poweroff -f
}

rng_seconds=${1%,*}
blk_seconds=${1#*,}
modprobe virtio_pci || fail "modprobe virtio_pci"
modprobe virtio_rng || fail "modprobe virtio_rng"
modprobe virtio_blk || fail "modprobe virtio_blk"
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/vda ] && [ -c /dev/hwrng ] && break; sleep 0.5; done
[ -b /dev/vda ] || fail "no /dev/vda"
[ -c /dev/hwrng ] || fail "no /dev/hwrng"
bench_io rng "${rng_seconds:-5}" || fail "rng benchmark"
bench_io blk /dev/vda "${blk_seconds:-3}" || fail "blk benchmark"
echo "VMM-GUEST: bench: idle"
read -r _
echo "VMM-GUEST: bench: done"
poweroff -f
