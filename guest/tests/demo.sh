#!/bin/sh
# The demo guest's welcome (tools/demo): loads the drivers, mounts the disk
# (ext4 on qemu-storage-daemon) on /mnt/disk and the host folder (virtiofsd,
# tag "share") on /mnt/share, adds the `screenshot` command, and greets the
# user with what is attached. Kernel command line words it reads:
#   vmmdemoctl=PATH   the VMM's control socket, vmmdemovnc=HOST:PORT its VNC
#   view, vmmdemowhere=host|l1 where both live (l1: inside the nested L1).
ctl='' vnc='' where=host
read -r cmdline </proc/cmdline
for word in $cmdline; do
	case "$word" in
	vmmdemoctl=*) ctl="${word#vmmdemoctl=}" ;;
	vmmdemovnc=*) vnc="${word#vmmdemovnc=}" ;;
	vmmdemowhere=*) where="${word#vmmdemowhere=}" ;;
	esac
done

# Prints "ok" or why $1 failed, after running the rest.
try() {
	what=$1
	shift
	if "$@" >/tmp/demo.err 2>&1; then echo ok; else echo "FAILED ($what: $(tail -n1 /tmp/demo.err))"; fi
}

modprobe virtio_pci
for m in virtio_blk virtiofs virtio_gpu virtio_rng crc32c_generic ext4; do modprobe "$m" 2>/dev/null; done
mkdir -p /mnt/disk /mnt/share
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/vda ] && break; sleep 0.3; done
disk=$(try "mount /dev/vda" mount -t ext4 /dev/vda /mnt/disk)
share=$(try "mount share" mount -t virtiofs share /mnt/share)
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -e /sys/class/graphics/fb0 ] && break; sleep 0.3; done
screen=ok
[ -e /sys/class/graphics/fb0 ] || screen="FAILED (no framebuffer)"
rng=$(cat /sys/class/misc/hw_random/rng_current 2>/dev/null)

# `screenshot`: the console filter on the VMM's side (tools/demo-console)
# sees this line and asks the VMM for a PNG of the screen.
cat >/bin/screenshot <<'SH'
#!/bin/sh
echo "VMM-DEMO: screenshot requested"
sleep 2
SH
chmod 755 /bin/screenshot

if [ "$where" = l1 ]; then
	at="inside the nested L1 guest, since this machine has no usable KVM: out of
    reach from the host's own shell, so use 'screenshot' here"
else
	at="on the machine that runs the VMM"
fi
cat <<MSG | tee /tmp/greeting

  Welcome to the vmm demo guest. Attached over vhost-user:
    disk   /dev/vda  $(cat /sys/block/vda/size 2>/dev/null) sectors, ext4 mounted on /mnt/disk: $disk
           (qemu-storage-daemon serving an image file)   try: cat /mnt/disk/README.txt
    share  /mnt/share (virtiofsd, tag "share"): $share
           a folder of the host                          try: ls /mnt/share; echo hi >/mnt/share/x
    screen virtio-gpu (vhost-user-gpu): $screen
           type 'screenshot' to have a PNG of it written (the path is printed),
           or watch it live over VNC at $vnc
    rng    virtio-rng served by the VMM: ${rng:-none}    try: head -c 16 /dev/hwrng | od -x
  Control socket: $ctl
    build/tools/vmmctl $ctl status|pause|resume|screenshot FILE.png
    (socket and VNC are $at)
  Leave with 'poweroff -f' (or Ctrl-A x); the demo then stops every back-end.

MSG
# fbcon draws tty1 on the GPU's screen: show the greeting there too.
[ -e /dev/tty1 ] || mknod /dev/tty1 c 4 1
{ echo "vmm demo: the guest's virtio-gpu screen (vhost-user-gpu)"; cat /tmp/greeting; } >/dev/tty1 2>/dev/null
