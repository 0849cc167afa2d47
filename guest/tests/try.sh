#!/bin/sh
# Guest half of tools/vmm-try: finds the one vhost-user device, binds its
# driver and runs the workload of its type, one verdict line per step:
#   VMM-TRY: step NAME: PASS|FAIL|SKIP: detail
# Where the host must act (a host-side file change, a screenshot, pause and
# resume cycles) it prints "VMM-TRY: host WHAT ARGS" and reads its answer
# from the console. $1 = TYPE,ID,key=value,... (tag=, pause=N, reset=N,
# secs=S, reflect=0|1). Ends with the device's kernel log lines.
# The work_* functions are called through "work_$type".
# shellcheck disable=SC2317
export TEST=try
# shellcheck source=guest/tests/lib.sh
. /tests/lib.sh

IFS=, read -r type id opts <<EOF
$1
EOF
tag=vmmtry pause=0 reset=0 secs=3 reflect=1
for kv in $(echo "$opts" | tr ',' ' '); do
	case "$kv" in
	tag=*) tag=${kv#tag=} ;;
	pause=*) pause=${kv#pause=} ;;
	reset=*) reset=${kv#reset=} ;;
	secs=*) secs=${kv#secs=} ;;
	reflect=*) reflect=${kv#reflect=} ;;
	esac
done
failed=0

# Prints one step's verdict: $1 name, $2 PASS|FAIL|SKIP, rest the detail.
step() {
	name=$1 result=$2
	shift 2
	echo "VMM-TRY: step $name: $result: $*"
	[ "$result" != FAIL ] || failed=$((failed + 1))
}

# Asks the host to act ($*) and prints its one-line answer. The request goes
# to fd 3, the console, since callers capture stdout.
exec 3>&1
host() {
	echo "VMM-TRY: host $*" >&3
	read -r answer
	echo "$answer"
}

# Ends the run: the kernel's lines about virtio and the device, then the verdict.
finish() {
	dmesg | grep -iE 'virtio|vd[a-z]|fuse|drm|eth0|hwrng|hvc|vsock|input' | tail -n 40 |
		sed 's/^/VMM-TRY: dmesg| /'
	echo "VMM-TRY: done failed=$failed"
	exit $((failed > 0))
}

# The virtio driver module for a device type name.
driver_module() {
	case "$1" in
	blk) echo virtio_blk ;; net) echo virtio_net ;; fs) echo virtiofs ;;
	gpu) echo virtio_gpu ;; rng) echo virtio_rng ;; console) echo virtio_console ;;
	input) echo virtio_input ;; vsock) echo vmw_vsock_virtio_transport ;;
	esac
}

# Sets PCIDEV and VDEV (the virtio device) for device id $id; waits up to 10 s.
find_device() {
	want=$(printf '0x%04x' $((0x1040 + id)))
	for _ in $(seq 50); do
		for dev in /sys/bus/pci/devices/*; do
			if [ "$(cat "$dev/vendor")" = 0x1af4 ] && [ "$(cat "$dev/device")" = "$want" ]; then
				PCIDEV=$dev
				VDEV=$(find "$dev/" -maxdepth 1 -name 'virtio*' | head -n1)
				[ -n "$VDEV" ] && return 0
			fi
		done
		sleep 0.2
	done
	return 1
}

# Waits up to $2 tenths of a second for path $1.
wait_path() {
	for _ in $(seq "${2:-100}"); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# True once the virtio device's status has DRIVER_OK (4).
driver_ok() { [ $(($(cat "$VDEV/status") & 4)) -ne 0 ]; }

bind_driver() {
	modprobe virtio_pci || { step "driver binds" FAIL "modprobe virtio_pci" && finish; }
	find_device || { step "device found" FAIL "no PCI function 1af4:$want" && finish; }
	step "device found" PASS "$(basename "$PCIDEV") 1af4:$want $(basename "$VDEV")"
	mod=$(driver_module "$type")
	if [ -n "$mod" ]; then
		modprobe "$mod" || { step "driver binds" FAIL "modprobe $mod" && finish; }
		for _ in $(seq 100); do driver_ok && break; sleep 0.1; done
		if ! wait_path "$VDEV/driver" 1 || ! driver_ok; then
			step "driver binds" FAIL "$mod: driver $(readlink "$VDEV/driver" | sed 's|.*/||') status $(cat "$VDEV/status")"
			finish
		fi
		step "driver binds" PASS "$(basename "$(readlink "$VDEV/driver")"), status $(cat "$VDEV/status") (DRIVER_OK)"
	else
		step "driver binds" SKIP "no Linux driver in the test guest for type $type (id $id)"
	fi
	bits=$(awk '{ for (i = 1; i <= length($0); i++) if (substr($0, i, 1) == "1") printf "%d ", i - 1 }' "$VDEV/features")
	step "features" PASS "negotiated bits ${bits% }"
}

blk_dev() { echo "/dev/$(basename "$(find "$VDEV/block" -mindepth 1 -maxdepth 1 | head -n1)")"; }

# One step per blkcheck command ($1 step, $2 command, rest extra arguments).
blkcheck_step() {
	name=$1 cmd=$2
	shift 2
	if out=$(blkcheck "$cmd" "$(blk_dev)" "$@" 2>&1); then
		step "$name" PASS "${out#ok: }"
	else
		step "$name" FAIL "$(echo "$out" | tail -n1)"
	fi
}

work_blk() {
	wait_path "$VDEV/block" 50 || { step "disk appears" FAIL "no block device under $VDEV" && return; }
	q=/sys/block/$(blk_dev | cut -d/ -f3)/queue
	echo "VMM-TRY: value capacity_sectors $(cat "$q/../size")"
	echo "VMM-TRY: value logical_block_size $(cat "$q/logical_block_size")"
	step "config (guest view)" PASS "$(blk_dev): $(cat "$q/../size") sectors, $(cat "$q/logical_block_size")-byte blocks, $(cat "$q/write_cache"), $(cat "$q/nr_requests") requests"
	blkcheck_step "patterned writes read back" pattern
	# VIRTIO_BLK_F_FLUSH is feature bit 9: character 10 of the features string.
	if [ "$(cut -c10 "$VDEV/features")" = 1 ]; then
		# With a write-through cache (CONFIG_WCE off) Linux sends no flush: ask for write-back.
		cache=$(cat "$q/write_cache")
		echo "write back" >"$q/write_cache"
		blkcheck_step "flush" flush
		echo "$cache" >"$q/write_cache"
	else
		step "flush" SKIP "VIRTIO_BLK_F_FLUSH not offered"
	fi
	if [ "$(cat "$q/discard_max_bytes")" -gt 0 ]; then blkcheck_step "discard" discard; else step "discard" SKIP "not offered"; fi
	if [ "$(cat "$q/write_zeroes_max_bytes")" -gt 0 ]; then blkcheck_step "write-zeroes" zeroes; else step "write-zeroes" SKIP "not offered"; fi
	blkcheck_step "random I/O" randio "$secs"
}

work_fs() {
	modprobe virtiofs
	mkdir -p /mnt
	within 30 mount -t virtiofs "$tag" /mnt || { step "mount by tag" FAIL "mount -t virtiofs $tag: $(cat /tmp/out)" && return; }
	step "mount by tag" PASS "tag $tag on /mnt"
	d=/mnt/vmm-try
	if within 20 sh -c "rm -rf $d; mkdir $d && dd if=/dev/urandom of=$d/a bs=4096 count=64 2>/dev/null"; then
		a=$(sha256sum </mnt/vmm-try/a | cut -d' ' -f1)
		echo 3 >/proc/sys/vm/drop_caches
		b=$(sha256sum </mnt/vmm-try/a | cut -d' ' -f1)
		if [ "$a" = "$b" ]; then step "create, write, read" PASS "256 KiB read back equal"; else step "create, write, read" FAIL "reads back $b"; fi
	else
		step "create, write, read" FAIL "$(cat /tmp/out)"
	fi
	if within 10 mv "$d/a" "$d/b" && [ ! -e "$d/a" ] && [ -e "$d/b" ]; then step "rename" PASS "a -> b"; else step "rename" FAIL "a -> b: $(cat /tmp/out)"; fi
	listing=$(ls "$d")
	if [ "$listing" = b ]; then step "list" PASS "$d holds b"; else step "list" FAIL "$d lists '$listing'"; fi
	if within 10 rm -r "$d" && [ ! -e "$d" ]; then step "delete" PASS "rm -r"; else step "delete" FAIL "$(cat /tmp/out)"; fi
	nonce=$(host fs-change)
	case "$nonce" in
	skip*) step "host-side change seen" SKIP "${nonce#skip }" ;;
	*) got=$(cat /mnt/vmm-try-host-change 2>&1)
		if [ "$got" = "$nonce" ]; then step "host-side change seen" PASS "file the host wrote after mount reads '$got'"; else step "host-side change seen" FAIL "reads '$got', host wrote '$nonce'"; fi ;;
	esac
	umount /mnt 2>/dev/null
}

work_net() {
	wait_path /sys/class/net/eth0 50 || { step "link up" FAIL "no eth0" && return; }
	ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && arp -s 10.0.2.99 02:00:00:00:00:99
	sleep 1
	if [ "$(cat /sys/class/net/eth0/carrier)" = 1 ]; then step "link up" PASS "eth0 $(cat /sys/class/net/eth0/address) carrier, mtu $(cat /sys/class/net/eth0/mtu)"; else step "link up" FAIL "no carrier"; fi
	tx0=$(net_stat tx_packets) rx0=$(net_stat rx_packets)
	ping -c 20 -i 0.1 -W 2 10.0.2.99 >/dev/null 2>&1
	sleep 1
	tx=$(($(net_stat tx_packets) - tx0)) rx=$(($(net_stat rx_packets) - rx0))
	if [ "$tx" -ge 20 ]; then step "frames sent" PASS "$tx frames"; else step "frames sent" FAIL "only $tx of 20 frames left"; fi
	if [ "$reflect" = 0 ]; then
		step "frames received" SKIP "--no-reflect: the backend neither reflects nor routes"
	elif [ "$rx" -ge 20 ]; then
		step "frames received" PASS "$rx frames came back"
	else
		step "frames received" FAIL "$rx of $tx frames came back (does the backend reflect or route them?)"
	fi
	errs=$(($(net_stat rx_errors) + $(net_stat tx_errors) + $(net_stat tx_dropped)))
	if [ "$reflect" = 1 ] && [ "$rx" -ne "$tx" ]; then step "counters agree" FAIL "sent $tx, received $rx, $errs errors"; elif [ "$errs" -ne 0 ]; then step "counters agree" FAIL "$errs rx/tx errors or drops"; else step "counters agree" PASS "sent $tx received $rx, no errors"; fi
}

work_gpu() {
	wait_path /sys/class/graphics/fb0/dev 100 || { step "framebuffer" FAIL "no fb0 after 10 s" && return; }
	modes=$(cat /sys/class/drm/card0-*/modes 2>/dev/null | head -n3 | tr '\n' ' ')
	if [ -n "$modes" ]; then step "modes" PASS "$modes"; else step "modes" FAIL "no modes on any connector"; fi
	[ -e /dev/fb0 ] || mknod /dev/fb0 c "$(cut -d: -f1 /sys/class/graphics/fb0/dev)" "$(cut -d: -f2 /sys/class/graphics/fb0/dev)"
	for vt in /sys/class/vtconsole/vtcon*; do grep -qi "frame buffer" "$vt/name" 2>/dev/null && echo 0 >"$vt/bind"; done
	stride=$(cat /sys/class/graphics/fb0/stride)
	size=$(cat /sys/class/graphics/fb0/virtual_size)
	printf '\000\000\377\000\000\377\000\000\377\000\000\000\377\377\377\000' >/tmp/row
	while [ "$(wc -c </tmp/row)" -lt "$stride" ]; do cat /tmp/row /tmp/row >/tmp/g && mv /tmp/g /tmp/row; done
	head -c "$stride" /tmp/row >/tmp/frame
	while [ "$(wc -c </tmp/frame)" -lt $((stride * ${size#*,})) ]; do cat /tmp/frame /tmp/frame >/tmp/g && mv /tmp/g /tmp/frame; done
	dd if=/tmp/frame of=/dev/fb0 bs=$((stride * ${size#*,})) count=1 2>/dev/null
	sleep 1
	got=$(host screenshot)
	case "$got" in
	ok*) step "pattern in screenshot" PASS "${got#ok }" ;;
	*) step "pattern in screenshot" FAIL "${got#fail }" ;;
	esac
}

work_rng() {
	dd if=/dev/hwrng of=/tmp/r bs=512 count=8 2>/dev/null
	n=$(wc -c </tmp/r)
	distinct=$(od -An -tx1 -v /tmp/r | tr ' ' '\n' | grep . | sort -u | wc -l)
	if [ "$n" -eq 4096 ] && [ "$distinct" -gt 200 ]; then step "entropy read" PASS "4096 bytes, $distinct distinct values"; else step "entropy read" FAIL "$n bytes, $distinct distinct values"; fi
}

work_console() {
	wait_path /sys/class/tty/hvc0 50 || { step "port appears" FAIL "no hvc0" && return; }
	[ -e /dev/hvc0 ] || mknod /dev/hvc0 c "$(cut -d: -f1 /sys/class/tty/hvc0/dev)" "$(cut -d: -f2 /sys/class/tty/hvc0/dev)"
	if within 10 sh -c 'echo "vmm-try: hello from the guest" >/dev/hvc0'; then step "write to hvc0" PASS "one line sent"; else step "write to hvc0" FAIL "$(cat /tmp/out)"; fi
}

work_other() {
	step "workload" SKIP "no workload for type $type beyond binding; see the config line"
}

# A short check that the device still works, for the lifecycle steps.
quick_check() {
	case "$type" in
	blk) wait_path "$VDEV/block" 50 && blkcheck quick "$(blk_dev)" >/tmp/out 2>&1 ;;
	fs) within 20 mount -t virtiofs "$tag" /mnt && echo x >/mnt/.vmm-try && rm /mnt/.vmm-try && umount /mnt ;;
	net) wait_path /sys/class/net/eth0 50 ;;
	rng) dd if=/dev/hwrng of=/dev/null bs=64 count=4 2>/dev/null ;;
	*) driver_ok ;;
	esac
}

# Load for the pause cycles: writes until /tmp/stop appears; errors go to /tmp/load.err.
background_load() {
	rounds=0
	while [ ! -e /tmp/stop ]; do
		case "$type" in
		blk) blkcheck quick "$(blk_dev)" >/tmp/load.out 2>&1 || { cat /tmp/load.out >/tmp/load.err && return; } ;;
		fs) { echo "$rounds" >/mnt/.vmm-try-load && [ "$(cat /mnt/.vmm-try-load)" = "$rounds" ]; } || { echo "fs round $rounds" >/tmp/load.err && return; } ;;
		net) ping -c 1 -W 2 10.0.2.99 >/dev/null 2>&1 ;;
		rng) dd if=/dev/hwrng of=/dev/null bs=64 count=1 2>/dev/null ;;
		*) sleep 0.2 ;;
		esac
		rounds=$((rounds + 1))
	done
	echo "$rounds" >/tmp/rounds
}

pause_cycles() {
	[ "$type" != fs ] || within 20 mount -t virtiofs "$tag" /mnt
	rm -f /tmp/stop /tmp/load.err
	background_load &
	pid=$!
	sleep 1
	got=$(host pause "$pause")
	touch /tmp/stop
	wait $pid
	[ "$type" != fs ] || { rm -f /mnt/.vmm-try-load; umount /mnt; }
	if [ -s /tmp/load.err ]; then
		step "pause/resume x$pause" FAIL "under load: $(tail -n1 /tmp/load.err)"
	elif [ "${got%% *}" != ok ]; then
		step "pause/resume x$pause" FAIL "${got#fail }"
	elif ! quick_check; then
		step "pause/resume x$pause" FAIL "the device no longer works after the cycles: $(tail -n1 /tmp/out)"
	else
		step "pause/resume x$pause" PASS "${got#ok }; $(cat /tmp/rounds) load rounds, device works after"
	fi
}

# Writes $2 to sysfs file $1 in the background: a driver stuck on a device
# that never answers must not hang the run. Sets why on failure.
sysfs_write() {
	sh -c "echo $2 >$1" 2>/tmp/sysfs.err &
	wpid=$!
	for _ in $(seq 300); do
		kill -0 $wpid 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 $wpid 2>/dev/null; then
		why="hung for 30 s (the driver waits for the device)"
		return 1
	fi
	wait $wpid && return 0
	why="failed: $(cat /tmp/sysfs.err)"
	return 1
}

reset_cycles() {
	drv=/sys/bus/virtio/drivers/$(basename "$(readlink "$VDEV/driver")")
	[ -e "$VDEV/driver" ] || { step "reset x$reset" SKIP "no driver bound" && return; }
	name=$(basename "$VDEV")
	i=0
	while [ $i -lt "$reset" ]; do
		sysfs_write "$drv/unbind" "$name" || { step "reset x$reset" FAIL "cycle $i: unbind (device reset) $why" && return; }
		sysfs_write "$drv/bind" "$name" || { step "reset x$reset" FAIL "cycle $i: bind (the device did not come back) $why" && return; }
		for _ in $(seq 50); do driver_ok && break; sleep 0.1; done
		driver_ok || { step "reset x$reset" FAIL "cycle $i: no DRIVER_OK after rebind" && return; }
		quick_check || { step "reset x$reset" FAIL "cycle $i: the device does not work after the reset: $(tail -n1 /tmp/out)" && return; }
		i=$((i + 1))
	done
	step "reset x$reset" PASS "driver unbound and rebound $reset times (device reset), works after each"
}

bind_driver
case "$type" in
blk | fs | net | gpu | rng | console) "work_$type" ;;
*) work_other ;;
esac
[ "$pause" -eq 0 ] || pause_cycles
[ "$reset" -eq 0 ] || reset_cycles
finish
