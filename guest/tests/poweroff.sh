#!/bin/sh
# Powers the guest off (ACPI), which the VMM turns into status 0.
echo "VMM-GUEST: powering off"
poweroff -f
