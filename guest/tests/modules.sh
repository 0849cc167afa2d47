#!/bin/sh
# Loads every virtio module the initramfs carries and lists what loaded.
for module in virtio_pci virtio_rng virtio_blk virtio_net virtiofs virtio_gpu virtio_console pvpanic_mmio; do
	modprobe "$module" || echo "VMM-GUEST: modprobe $module failed"
done
echo "VMM-GUEST: modules $(cut -d' ' -f1 /proc/modules | sort | tr '\n' ' ')"
