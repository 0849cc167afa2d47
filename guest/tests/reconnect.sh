#!/bin/sh
# Restarted back-ends under a running guest (tests/boot/vhost_user): W
# writers cycle through the first N blocks of /dev/vda ($1 is
# N:MODE:W, default 64::1; N a multiple of W), writer w over the blocks
# w, w+W, ..., each write a pattern naming its block and generation, read
# back at once. So up to W requests are in flight when the back-end dies.
# The host kills and restarts the back-end meanwhile, then types a line:
# the writers stop, every block must hold its last generation, no I/O may
# have failed, and the region's sha256 goes to the host to compare with
# the image. MODE expect-error: the device is meant to fail instead, so I/O
# must fail (not hang) and the guest go on; maybe-error: either outcome,
# but never a hang, and without errors every block checked as above.
IFS=: read -r n mode writers <<EOF
${1:-64::1}
EOF
n=${n:-64}
writers=${writers:-1}
per=$((n / writers))
say() { echo "VMM-GUEST: reconnect: $*"; }
fail() {
	say "FAIL: $*"
	exit 1
}

pattern() { yes "block $1 generation $2" | head -c 4096; }

# One write and its read-back by writer $3; a failure is recorded, never waited out here.
write_block() {
	pattern "$1" "$2" >"/tmp/w.$3"
	dd if="/tmp/w.$3" of=/dev/vda bs=4096 seek="$1" count=1 oflag=direct conv=fsync 2>/dev/null ||
		{ echo "write block $1 generation $2" >>/tmp/errors && return; }
	dd if=/dev/vda of="/tmp/r.$3" bs=4096 skip="$1" count=1 iflag=direct 2>/dev/null ||
		{ echo "read block $1 generation $2" >>/tmp/errors && return; }
	cmp -s "/tmp/w.$3" "/tmp/r.$3" || echo "block $1 generation $2 read back different" >>/tmp/errors
}

# Writer $1: its generation g writes block $1 + (g % per) * writers.
writer() {
	g=0
	while [ ! -f /tmp/stop ]; do
		write_block $(($1 + (g % per) * writers)) "$g" "$1"
		echo "$g" >"/tmp/gen.$1"
		g=$((g + 1))
	done
	touch "/tmp/writer-done.$1"
}

# The generation block $1 must hold: its writer's last one that wrote it; -1 if none did.
expected_generation() {
	w=$(($1 % writers))
	j=$(($1 / writers))
	last=$(cat "/tmp/gen.$w" 2>/dev/null || echo -1)
	if [ "$j" -gt "$last" ]; then
		echo -1
	else
		echo $((last - (last - j) % per))
	fi
}

say probing
modprobe virtio_pci || fail "modprobe virtio_pci"
modprobe virtio_blk || fail "modprobe virtio_blk"
for _ in $(seq 60); do [ -b /dev/vda ] && break; sleep 0.5; done
[ -b /dev/vda ] || fail "no /dev/vda"
rm -f /tmp/stop /tmp/writer-done.* /tmp/errors /tmp/gen.*
for w in $(seq 0 $((writers - 1))); do writer "$w" & done
say ready
read -r _
touch /tmp/stop
for w in $(seq 0 $((writers - 1))); do
	for _ in $(seq 300); do [ -f "/tmp/writer-done.$w" ] && break; sleep 0.2; done
	[ -f "/tmp/writer-done.$w" ] ||
		fail "I/O hung: writer $w did not finish within 60 s (generation $(cat "/tmp/gen.$w" 2>/dev/null))"
done
if [ "$mode" = maybe-error ] && [ -s /tmp/errors ]; then
	say "I/O failed: $(wc -l </tmp/errors) errors, first: $(head -n 1 /tmp/errors)"
	say PASS
	exit 0
fi
if [ "$mode" = expect-error ]; then
	[ -s /tmp/errors ] || fail "no I/O error although the device failed"
	say "I/O failed as the device did: $(head -n 1 /tmp/errors)"
	say "guest alive, uptime $(cut -d' ' -f1 /proc/uptime)"
	say PASS
	exit 0
fi
[ -s /tmp/errors ] && fail "$(wc -l </tmp/errors) I/O errors, first: $(head -n 1 /tmp/errors)"
total=0
for w in $(seq 0 $((writers - 1))); do total=$((total + $(cat "/tmp/gen.$w") + 1)); done
k=0
while [ "$k" -lt "$n" ]; do
	g=$(expected_generation "$k")
	if [ "$g" -ge 0 ]; then
		pattern "$k" "$g" >/tmp/w
		dd if=/dev/vda of=/tmp/r bs=4096 skip="$k" count=1 iflag=direct 2>/dev/null || fail "final read of block $k"
		cmp -s /tmp/w /tmp/r || fail "block $k does not hold generation $g"
	fi
	k=$((k + 1))
done
say "writes $total by $writers writers, every block holds its last generation"
say "sha256 $(dd if=/dev/vda bs=4096 count="$n" iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)"
say PASS
