#!/bin/sh
# Crashes the guest kernel; with pvpanic-mmio loaded the VMM exits with 3.
echo "VMM-GUEST: triggering panic"
echo c >/proc/sysrq-trigger
