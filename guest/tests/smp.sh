#!/bin/sh
# Reports how many CPUs the guest sees, by two independent counts.
echo "VMM-GUEST: nproc=$(nproc) cpuinfo=$(grep -c '^processor' /proc/cpuinfo)"
