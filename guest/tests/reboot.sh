#!/bin/sh
# Reboots the guest, which the VMM turns into status 0.
echo "VMM-GUEST: rebooting"
reboot -f
