#!/bin/sh
# Reports how many CPUs the guest sees, by two independent counts, and
# which string-copy hints (ERMS, FSRM) its CPUID offers.
hints=
for flag in $(grep -m1 '^flags' /proc/cpuinfo); do
	case "$flag" in
	erms | fsrm) hints="${hints:+$hints,}$flag" ;;
	esac
done
echo "VMM-GUEST: nproc=$(nproc) cpuinfo=$(grep -c '^processor' /proc/cpuinfo) string-hints=${hints:-none}"
