#!/bin/sh
# Snapshot with vhost-user-net (tests/boot/snapshot): the link comes up with
# MAC $1 and frames come back from the echoing back-end; says "ready" and
# waits for a console line. The host snapshots, kills the VMM and its
# back-end, restores a new VMM on a new back-end and types a line: frames
# must come back again, through the rings the snapshot carried.
TEST=snapnet
# shellcheck source=guest/tests/lib.sh
. /tests/lib.sh

net_up "$1"
net_wait_echo
echo "VMM-GUEST: snapnet: ready rx $(net_stat rx_packets)"
read -r _
net_wait_echo
net_ping_count "after restore"
echo "VMM-GUEST: snapnet: PASS"
