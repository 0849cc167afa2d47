#!/bin/sh
# vhost-user-fs (virtiofsd): mounts tag $1, reads the file the host wrote
# before boot, then creates, writes, lists and deletes files of its own;
# guest-file stays for the host to check.
TEST=fs
# shellcheck source=guest/tests/lib.sh
. /tests/lib.sh

tag=${1:-fs}
mount_host_share "$tag"
echo "written by the guest" >/mnt/guest-file || fail "write guest-file"
mkdir /mnt/guest-dir || fail "mkdir"
dd if=/dev/urandom of=/mnt/guest-dir/blob bs=4096 count=64 2>/dev/null || fail "write blob"
a=$(sha256sum </mnt/guest-dir/blob | cut -d' ' -f1)
echo 3 >/proc/sys/vm/drop_caches
b=$(sha256sum </mnt/guest-dir/blob | cut -d' ' -f1)
[ "$a" = "$b" ] || fail "blob reads back differently"
[ "$(find /mnt -maxdepth 1 -name guest-dir)" = /mnt/guest-dir ] || fail "guest-dir not listed"
{ rm /mnt/guest-dir/blob && rmdir /mnt/guest-dir; } || fail "delete"
[ ! -e /mnt/guest-dir ] || fail "guest-dir still there"
echo "VMM-GUEST: fs: listing: $(find /mnt -maxdepth 1 | tr '\n' ' ')"
umount /mnt || fail "umount"
echo "VMM-GUEST: fs: PASS"
