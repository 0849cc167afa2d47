#!/bin/sh
# virtio-rng over virtio-pci with MSI-X: the device enumerates, the driver
# binds, its MSI-X vectors count up while /dev/hwrng delivers data, and a
# storm of random config-space and BAR writes ($1 iterations) leaves it working.
fail() {
	echo "VMM-GUEST: rng: FAIL: $*"
	exit 1
}

msix_count() {
	# Sum of the per-CPU counts on the virtio device's MSI-X lines (x86 PCI-MSI, arm64 ITS-MSI).
	grep -E '(PCI|ITS)-MSI.*virtio' /proc/interrupts | awk '{ for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i; else break } END { print s + 0 }'
}

read_hwrng() {
	dd if=/dev/hwrng of=/tmp/random bs=512 count=8 2>/dev/null
	size=$(wc -c </tmp/random)
	[ "$size" -eq 4096 ] || fail "read $size bytes from /dev/hwrng, wanted 4096"
	# 4 KiB of real randomness has many distinct byte values; zeros have one.
	distinct=$(od -An -tx1 -v /tmp/random | tr ' ' '\n' | grep . | sort -u | wc -l)
	[ "$distinct" -gt 200 ] || fail "only $distinct distinct byte values in /dev/hwrng data"
}

modprobe virtio_pci || fail "modprobe virtio_pci"
modprobe virtio_rng || fail "modprobe virtio_rng"
found=
for dev in /sys/bus/pci/devices/*; do
	echo "VMM-GUEST: pci $(basename "$dev") $(cat "$dev/vendor"):$(cat "$dev/device") class $(cat "$dev/class")"
	[ "$(cat "$dev/vendor")" = 0x1af4 ] && [ "$(cat "$dev/device")" = 0x1044 ] && found=$dev
done
[ -n "$found" ] || fail "no virtio-rng (1af4:1044) on the PCI bus"
[ -e "$found/driver" ] || fail "no driver bound to $found"
echo "VMM-GUEST: rng driver $(basename "$(readlink "$found/driver")")"
[ -c /dev/hwrng ] || fail "/dev/hwrng missing"
current=$(cat /sys/class/misc/hw_random/rng_current)
echo "VMM-GUEST: hwrng current $current"
case "$current" in virtio_rng*) ;; *) fail "current hwrng is '$current'" ;; esac

before=$(msix_count)
read_hwrng
after=$(msix_count)
grep 'virtio' /proc/interrupts
modes=$(cat "$found"/msi_irqs/* 2>/dev/null | sort -u | tr '\n' ' ')
echo "VMM-GUEST: msi modes: $modes"
[ "$modes" = "msix " ] || fail "the device's interrupts are not MSI-X (modes: '$modes')"
echo "VMM-GUEST: msix interrupts before=$before after=$after"
[ "$after" -gt "$before" ] || fail "MSI-X interrupt count did not rise ($before -> $after)"

iterations=${1:-0}
if [ "$iterations" -gt 0 ]; then
	# Everything but the rng itself (host bridge, raw 0xCF8 accesses): the rng must still work.
	pcipoke -s 1 -n "$iterations" -m both -x "$(basename "$found")" || fail "pcipoke failed"
	read_hwrng
	echo "VMM-GUEST: rng still works after pcipoke"
	# Then the rng's own config space and BARs too: its driver may give up, the VMM must not.
	pcipoke -s 2 -n "$iterations" || echo "VMM-GUEST: pcipoke over every device returned $?"
	echo "VMM-GUEST: VMM survived pcipoke on the rng device"
fi
echo "VMM-GUEST: rng: PASS"
