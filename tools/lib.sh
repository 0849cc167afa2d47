# Shared helpers for the project's bash tools: paths, logging, KVM probing.
# Sourced, not executed; callers set `set -euo pipefail` themselves.
# shellcheck shell=bash

# Repository root, whatever the caller's working directory.
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${REPO_ROOT}/build"
# Debian architecture of the guest kernel the scripts work on: amd64, or
# arm64 (VMM_KERNEL_ARCH=arm64, kept apart in build/kernel-arm64).
KERNEL_ARCH="${VMM_KERNEL_ARCH:-amd64}"
if [[ "$KERNEL_ARCH" == amd64 ]]; then
	KERNEL_DIR="${BUILD_DIR}/kernel"
else
	KERNEL_DIR="${BUILD_DIR}/kernel-${KERNEL_ARCH}"
fi
# QEMU 10 from bookworm-backports, unpacked by tools/fetch-qemu10.
QEMU10_DIR="${BUILD_DIR}/qemu10"

log() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# True when KVM can run guests here directly, without the nested L1 guest:
# /dev/kvm opens read-write and the CPU has hardware virtualization (svm or
# vmx). Some sandboxes offer a /dev/kvm without either flag that opens but
# cannot boot Linux in useful time, so the flag is required.
# VMM_KVM=direct or VMM_KVM=nested overrides the decision.
kvm_usable() {
	case "${VMM_KVM:-auto}" in
	direct) return 0 ;;
	nested) return 1 ;;
	esac
	[[ -c /dev/kvm ]] || return 1
	{ exec 9<>/dev/kvm; } 2>/dev/null || return 1
	exec 9>&-
	grep -qwE 'svm|vmx' /proc/cpuinfo
}

# True inside the nested L1 guest (its init exports this variable).
in_l1() { [[ "${VMM_IN_L1:-0}" == 1 ]]; }

# Prints why a nested L2 guest died, when it triple-faulted. Under the L1's
# TCG-emulated SVM this happens now and then to guests that run fine
# otherwise, QEMU's as well as ours (the same emulation sometimes crashes
# the L1 kernel itself, which tools/nested/run counts); boot tests retry
# such a test once, saying so in a "RETRY" line that the harness's ledger
# counts. On real KVM it is never excused.
# $1 = the VMM's stderr, $2 = the guest's output.
nested_guest_triple_faulted() {
	in_l1 || return 1
	grep -q 'triple fault' "$1" 2>/dev/null || return 1
	if grep -q '^VMM-GUEST: init reached' "$2" 2>/dev/null; then
		echo "the guest triple-faulted after its init (nested L2)"
	else
		echo "the guest triple-faulted before its init (nested L2)"
	fi
}

# Tells tools/nested/run, outside L1, how far a suite got: "start CASE"
# before a case, "done CASE PASSED FAILED" (verdicts) after it. The lines
# leave on a serial port, so they reach the host even when L1 is lost a
# moment later. Does nothing outside the harness's L1.
suite_progress() {
	[[ -n "${VMM_L1_PROGRESS:-}" ]] || return 0
	echo "VMM-PROGRESS: $*" >>"$VMM_L1_PROGRESS" 2>/dev/null || true
}

# Replaces this process with tools/nested/run running suite $1 in L1, one
# L1 session for all its cases unless one is lost: $2 = seconds per case,
# then the suite's command, "--", and its cases (appended to the command).
exec_nested_suite() {
	local suite="$1" case_timeout="$2" cmd=() cases=() name
	shift 2
	while (($#)) && [[ "$1" != -- ]]; do
		cmd+=("$1")
		shift
	done
	shift
	for name in "$@"; do cases+=(--case "$name"); done
	exec "${REPO_ROOT}/tools/nested/run" --suite "$suite" --case-timeout "$case_timeout" \
		"${cases[@]}" -- "${cmd[@]}"
}

# Prints the Debian kernel release fetched by tools/fetch-kernel.
kernel_release() {
	[[ -s "${KERNEL_DIR}/release" ]] || die "no kernel: run tools/fetch-kernel"
	cat "${KERNEL_DIR}/release"
}

# Paths of the fetched kernel image and its module tree.
kernel_image() { echo "${KERNEL_DIR}/root/boot/vmlinuz-$(kernel_release)"; }
kernel_modules_dir() { echo "${KERNEL_DIR}/root/lib/modules/$(kernel_release)"; }

# Path of the unpacked QEMU 10's system emulator.
qemu10_binary() { echo "${QEMU10_DIR}/root/usr/bin/qemu-system-x86_64"; }

# Prints a content hash of the given files (for rebuild-on-change caching).
hash_files() { cat "$@" | sha256sum | cut -d' ' -f1; }

# Prints the status N of the last "MARK: exit status=N" line in file $1
# (the line a nested L1's init prints for its command); nothing when none.
# $2 = MARK.
l1_reported_status() {
	sed -n "s/^$2: exit status=\([0-9]*\).*/\1/p" "$1" 2>/dev/null | tail -n1
}
