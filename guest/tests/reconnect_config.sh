#!/bin/sh
# The back-end comes back with another config (tests/boot/vhost_user
# reconnect_config: a bigger image): the driver must see the change (a
# config-change interrupt) without any guest action; $1 = the new size in
# 512-byte sectors.
TEST=reconnect_config
# shellcheck source=guest/tests/lib.sh
. /tests/lib.sh

modprobe virtio_pci || fail "modprobe virtio_pci"
modprobe virtio_blk || fail "modprobe virtio_blk"
for _ in $(seq 20); do [ -b /dev/vda ] && break; sleep 0.5; done
[ -b /dev/vda ] || fail "no /dev/vda"
before=$(cat /sys/block/vda/size)
echo "VMM-GUEST: reconnect_config: ready, $before sectors"
read -r _
for _ in $(seq 100); do [ "$(cat /sys/block/vda/size)" = "$1" ] && break; sleep 0.2; done
after=$(cat /sys/block/vda/size)
[ "$after" = "$1" ] || fail "capacity $after sectors 20 s after the restart, expected $1"
echo "VMM-GUEST: reconnect_config: capacity $before -> $after sectors"
echo "VMM-GUEST: reconnect_config: PASS"
