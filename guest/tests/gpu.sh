#!/bin/sh
# virtio-gpu over vhost-user: the driver binds, /dev/fb0 appears, and the
# guest fills the whole framebuffer with a 4-pixel tile (red, green, blue,
# white, repeated along each row). The host then takes a screenshot and
# checks it with tests/gpu/check_png.py --tile.
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
# fbcon would draw text and a blinking cursor over the pattern: unbind it.
for vt in /sys/class/vtconsole/vtcon*; do
	grep -qi "frame buffer" "$vt/name" 2>/dev/null && echo 0 >"$vt/bind"
done
echo 0 >/sys/class/graphics/fbcon/cursor_blink 2>/dev/null

size=$(cat /sys/class/graphics/fb0/virtual_size)
width=${size%,*}
height=${size#*,}
bpp=$(cat /sys/class/graphics/fb0/bits_per_pixel)
stride=$(cat /sys/class/graphics/fb0/stride)
echo "VMM-GUEST: gpu: fb0 ${width}x${height} ${bpp} bpp, stride $stride"
[ "$bpp" = 32 ] || fail "expected 32 bpp, got $bpp"

# One row: the 16-byte tile (B, G, R, X per pixel) doubled until it covers the stride.
printf '\000\000\377\000\000\377\000\000\377\000\000\000\377\377\377\000' >/tmp/row
while [ "$(wc -c </tmp/row)" -lt "$stride" ]; do
	cat /tmp/row /tmp/row >/tmp/row2 && mv /tmp/row2 /tmp/row
done
head -c "$stride" /tmp/row >/tmp/row1
i=0
: >/tmp/frame
while [ $i -lt "$height" ]; do
	cat /tmp/row1 >>/tmp/frame
	i=$((i + 1))
done
dd if=/tmp/frame of=/dev/fb0 bs="$stride" count="$height" 2>/dev/null || fail "write to /dev/fb0"
# The fbdev emulation flushes damage from a worker; give it time to reach the host.
sleep 1
echo "VMM-GUEST: gpu: wrote the tile pattern to ${width}x${height}"
echo "VMM-GUEST: gpu: PASS"
