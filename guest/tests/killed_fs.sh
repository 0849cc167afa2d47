#!/bin/sh
# virtiofsd dies under a mounted virtiofs: the host kills it and types a
# line, then creating and reading files must fail with an error within
# seconds (the VMM answers the FUSE requests with EIO), not hang.
TEST=killed_fs
# shellcheck source=guest/tests/lib.sh
. /tests/lib.sh

tag=${1:-fs}
mount_host_share "$tag"
echo before >/mnt/before || fail "first write"
echo "VMM-GUEST: killed_fs: ready"
read -r _
# A name never looked up and a fresh open: the page cache cannot answer them.
if within 10 sh -c 'echo after >/mnt/after'; then
	fail "creating a file after the back-end died succeeded"
fi
echo "VMM-GUEST: killed_fs: create failed: $(tail -n 1 /tmp/out)"
echo 3 >/proc/sys/vm/drop_caches
if within 10 cat /mnt/host-file; then
	fail "reading host-file after the back-end died succeeded"
fi
echo "VMM-GUEST: killed_fs: read failed: $(tail -n 1 /tmp/out)"
echo "VMM-GUEST: killed_fs: guest still alive, uptime $(cut -d' ' -f1 /proc/uptime)"
echo "VMM-GUEST: killed_fs: PASS"
