#!/bin/sh
# vhost-user-net with two queue pairs (testpmd queues=2) and two vCPUs: the
# driver uses both pairs (sysfs shows rx-0/rx-1/tx-0/tx-1), every per-queue
# interrupt line exists, and pings sent from each CPU (so on each tx queue)
# come back on each rx queue: all four lines count up.
TEST=net_mq
# shellcheck source=guest/tests/lib.sh
. /tests/lib.sh

# The interrupt count of the virtio line ending in -$1 (input.0, ...), summed over CPUs.
irqs() {
	awk -v want="-$1" '
		substr($NF, length($NF) - length(want) + 1) == want {
			s = 0
			for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i
			print s
			exit
		}' /proc/interrupts
}

LINES="input.0 input.1 output.0 output.1"

net_up "$1"
[ "$(nproc)" = 2 ] || fail "$(nproc) CPUs online, expected 2"
queues=$(ls /sys/class/net/eth0/queues | tr '\n' ' ')
[ "$queues" = "rx-0 rx-1 tx-0 tx-1 " ] || fail "queues: $queues(expected 2 combined channels)"
for line in $LINES; do
	[ -n "$(irqs "$line")" ] || fail "no interrupt line for $line"
	eval "before_${line%.*}_${line#*.}=$(irqs "$line")"
done
tx0=$(net_stat tx_packets)
rx0=$(net_stat rx_packets)
# XPS maps tx queue N to CPU N: one ping per CPU puts frames on both pairs.
taskset -c 0 ping -c 20 -i 0.1 -W 1 10.0.2.99 >/dev/null 2>&1 &
taskset -c 1 ping -c 20 -i 0.1 -W 1 10.0.2.99 >/dev/null 2>&1 &
wait
sleep 1
tx=$(($(net_stat tx_packets) - tx0))
rx=$(($(net_stat rx_packets) - rx0))
report=""
for line in $LINES; do
	eval "before=\$before_${line%.*}_${line#*.}"
	delta=$(($(irqs "$line") - before))
	report="$report $line +$delta"
	[ "$delta" -gt 0 ] || fail "interrupts of $line did not rise ($delta);$report"
done
echo "VMM-GUEST: net_mq: queues $queues sent $tx received $rx; interrupts$report"
[ "$tx" -ge 40 ] || fail "only $tx frames sent"
[ "$rx" -ge 40 ] || fail "only $rx of $tx frames came back"
echo "VMM-GUEST: net_mq: PASS"
