#!/bin/sh
# virtio-gpu over vhost-user, driven by tests/boot/gpu_shmem (host) in steps;
# after each "VMM-GUEST: gpu: ..." marker the host acts, then types a line:
#   1. the driver binds, /dev/fb0 appears and fbcon draws text on tty1
#      ("console drawn": the host screenshots and wants non-blank text)
#   2. fbcon is unbound and the whole framebuffer filled with a 4-pixel tile
#      (red, green, blue, white along each row) ("pattern written": the
#      host screenshots and checks it with tests/gpu/check_png.py --tile)
# With $1 = bench or bench,SECONDS (tools/bench --only gpu): full-screen
# frames are written for SECONDS (default 10) between "bench start" and
# "bench end", which reports the frames and the time they took.
fail() {
	echo "VMM-GUEST: gpu: FAIL: $*"
	exit 1
}

modprobe virtio_pci || fail "modprobe virtio_pci"
modprobe virtio_gpu || fail "modprobe virtio_gpu (drm, drm_kms_helper, drm_shmem_helper, virtio_dma_buf)"
i=0
while [ ! -e /sys/class/graphics/fb0/dev ]; do
	i=$((i + 1))
	[ $i -le 100 ] || fail "no fb0 after 10 s"
	sleep 0.1
done
[ -e /dev/fb0 ] || mknod /dev/fb0 c "$(cut -d: -f1 /sys/class/graphics/fb0/dev)" \
	"$(cut -d: -f2 /sys/class/graphics/fb0/dev)" || fail "mknod /dev/fb0"
echo 0 >/sys/class/graphics/fbcon/cursor_blink 2>/dev/null

size=$(cat /sys/class/graphics/fb0/virtual_size)
width=${size%,*}
height=${size#*,}
bpp=$(cat /sys/class/graphics/fb0/bits_per_pixel)
stride=$(cat /sys/class/graphics/fb0/stride)
echo "VMM-GUEST: gpu: fb0 ${width}x${height} ${bpp} bpp, stride $stride"
[ "$bpp" = 32 ] || fail "expected 32 bpp, got $bpp"

# Doubles file $1 until it holds at least $2 bytes, then cuts it there.
grow() {
	while [ "$(wc -c <"$1")" -lt "$2" ]; do
		cat "$1" "$1" >/tmp/grow && mv /tmp/grow "$1"
	done
	head -c "$2" "$1" >/tmp/grow && mv /tmp/grow "$1"
}

# A frame ($1) of rows made of the 16-byte tile $2 (B, G, R, X per pixel).
make_frame() {
	# shellcheck disable=SC2059 # the tile is a format of octal escapes
	printf "$2" >/tmp/row
	grow /tmp/row "$stride"
	mv /tmp/row "$1"
	grow "$1" $((stride * height))
}

# A whole frame goes in one write(). Linux 6.1's fbdev emulation turns a
# write of exactly one scanline into an empty damage rectangle (its x2 comes
# from the end offset modulo the line length, which is 0), so line-sized
# writes change the framebuffer without ever being flushed to the device.
write_frame() {
	dd if="$1" of=/dev/fb0 bs=$((stride * height)) count=1 2>/dev/null
}

TILE='\000\000\377\000\000\377\000\000\377\000\000\000\377\377\377\000'

# Prints the uptime in hundredths of a second (/proc/uptime has two decimals).
uptime_cs() {
	read -r up _ </proc/uptime
	frac=${up#*.}
	echo $((${up%.*} * 100 + ${frac#0}))
}

case "$1" in
bench | bench,*)
	secs=${1#bench}
	secs=${secs#,}
	secs=${secs:-10}
	make_frame /tmp/frame1 "$TILE"
	make_frame /tmp/frame2 '\377\000\000\000\000\000\000\000\000\377\000\000\000\000\377\000'
	for vt in /sys/class/vtconsole/vtcon*; do
		grep -qi "frame buffer" "$vt/name" 2>/dev/null && echo 0 >"$vt/bind"
	done
	echo "VMM-GUEST: gpu: bench start"
	start=$(uptime_cs)
	end=$((start + secs * 100))
	frames=0
	# Each write of a whole frame is damage the fbdev helper flushes
	# (transfer + resource flush); writes that outpace it are merged.
	while [ "$(uptime_cs)" -lt "$end" ]; do
		write_frame /tmp/frame1 || fail "write"
		write_frame /tmp/frame2 || fail "write"
		frames=$((frames + 2))
	done
	took=$(($(uptime_cs) - start))
	echo "VMM-GUEST: gpu: bench end: $frames frames written in $((took / 100)).$((took / 10 % 10))$((took % 10)) s"
	read -r _
	echo "VMM-GUEST: gpu: PASS"
	exit 0
	;;
esac

# Step 1: text on the framebuffer console.
[ -e /dev/tty1 ] || mknod /dev/tty1 c 4 1
i=0
while [ $i -lt 20 ]; do
	echo "vmm gpu test: line $i of text drawn by fbcon on tty1 ################" >/dev/tty1
	i=$((i + 1))
done
sleep 1
echo "VMM-GUEST: gpu: console drawn"
read -r _

# Step 2: fbcon would draw text and a cursor over the pattern: unbind it.
for vt in /sys/class/vtconsole/vtcon*; do
	grep -qi "frame buffer" "$vt/name" 2>/dev/null && echo 0 >"$vt/bind"
done
make_frame /tmp/frame "$TILE"
write_frame /tmp/frame || fail "write to /dev/fb0"
head -c 16 /tmp/frame | od -An -tx1 | sed 's/^/VMM-GUEST: gpu: frame starts /'
cmp -n $((stride * height)) /tmp/frame /dev/fb0 || fail "/dev/fb0 does not read back the frame"
# The fbdev emulation flushes damage from a worker; give it time to reach the host.
sleep 1
echo "VMM-GUEST: gpu: pattern written to ${width}x${height}"
read -r _
echo "VMM-GUEST: gpu: PASS"
