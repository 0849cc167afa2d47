#!/bin/sh
# vhost-user-net against an echoing back-end (testpmd io forwarding): the
# link is up with the MAC $1 the VMM serves, and pings to a fake neighbour
# (static ARP entry, so no ARP is needed) come back as received frames.
TEST=net
# shellcheck source=guest/tests/lib.sh
. /tests/lib.sh

net_up "$1"
net_wait_echo
net_ping_count "mac $mac"
echo "VMM-GUEST: net: PASS"
