#!/bin/sh
# Snapshot: counts in a shell variable (guest RAM), printing the count and
# the guest's uptime every 0.2 s, until it reaches $1 (default 60). The
# host snapshots the VM mid-count, kills it and restores a new VMM: the
# count must go on from where it was and the uptime never go back.
limit=${1:-60}
i=0
last_up=0
while [ "$i" -lt "$limit" ]; do
	i=$((i + 1))
	up=$(cut -d' ' -f1 /proc/uptime)
	echo "VMM-GUEST: snapcount: count $i uptime $up"
	# awk compares the two decimals: uptime must never run backwards.
	if ! awk -v a="$up" -v b="$last_up" 'BEGIN { exit !(a + 0 >= b + 0) }'; then
		echo "VMM-GUEST: snapcount: FAIL: uptime went from $last_up to $up"
		exit 1
	fi
	last_up=$up
	sleep 0.2
done
echo "VMM-GUEST: snapcount: PASS"
