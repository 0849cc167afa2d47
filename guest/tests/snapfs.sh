#!/bin/sh
# Snapshot with virtiofs (virtiofsd 1.13, DEVICE_STATE): holds /mnt/held
# open for writing (fd 3) and reading (fd 4), writes "before", says
# "ready" and waits for a console line. The host snapshots, kills the VMM
# and virtiofsd, restores on a new virtiofsd and types a line: writing and
# reading through the still-open descriptors must work.
fail() {
	echo "VMM-GUEST: snapfs: FAIL: $*"
	exit 1
}

modprobe virtio_pci || fail "modprobe virtio_pci"
modprobe virtiofs || fail "modprobe virtiofs"
mkdir -p /mnt
mount -t virtiofs "$1" /mnt || fail "mount"
exec 3>/mnt/held || fail "open for writing"
exec 4</mnt/held || fail "open for reading"
echo before >&3 || fail "write before"
read -r line <&4 || fail "read before"
[ "$line" = before ] || fail "read '$line' before the snapshot"
echo "VMM-GUEST: snapfs: ready"
read -r _
echo after >&3 || fail "write through the open file after restore"
read -r line <&4 || fail "read through the open file after restore"
[ "$line" = after ] || fail "read '$line' through the open file after restore"
exec 3>&- 4<&-
echo "VMM-GUEST: snapfs: PASS"
