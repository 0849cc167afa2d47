# Helpers to assemble busybox initramfs images with kernel modules, shared by
# guest/build-initramfs (L2 test guest) and tools/nested/build-l1 (L1 guest).
# shellcheck shell=bash
# Needs tools/lib.sh sourced first (kernel_release, kernel_modules_dir, die).

INITRAMFS_BUSYBOX=/bin/busybox
# Command prefix that runs $INITRAMFS_BUSYBOX here (qemu-user for an arm64 one).
INITRAMFS_RUN=()

# Prints, relative to module tree $1, the files of the modules named in the
# remaining arguments and of their dependencies, as modules.dep lists them.
# Module names match with '-' and '_' taken as equal, as modprobe does.
module_closure() {
	local tree="$1" names
	shift
	names="$(printf '%s\n' "$@")"
	awk -v names="$names" '
		BEGIN {
			n = split(names, list, "\n")
			for (i = 1; i <= n; i++) { m = list[i]; gsub(/-/, "_", m); want[m] = 1 }
		}
		{
			file = $1; sub(/:$/, "", file)
			base = file; sub(/.*\//, "", base); sub(/\.ko(\.[a-z]+)?$/, "", base)
			gsub(/-/, "_", base)
			if (!(base in want)) next
			found[base] = 1
			for (i = 1; i <= NF; i++) { f = $i; sub(/:$/, "", f); print f }
		}
		END {
			for (m in want) if (!(m in found)) { print "missing module " m > "/dev/stderr"; bad = 1 }
			exit bad
		}
	' "$tree/modules.dep" | sort -u
}

# Copies module file $2 (relative to tree $1) into staging root $3,
# decompressing .ko.xz / .ko.zst so that busybox insmod can load it.
copy_module() {
	local tree="$1" rel="$2" root="$3" dest
	dest="${root}/lib/modules/$(kernel_release)/${rel%.xz}"
	dest="${dest%.zst}"
	mkdir -p "$(dirname "$dest")"
	case "$rel" in
	*.ko.xz) xz -dc "$tree/$rel" >"$dest" ;;
	*.ko.zst) zstd -qdc "$tree/$rel" >"$dest" ;;
	*) cp "$tree/$rel" "$dest" ;;
	esac
}

# Installs into staging root $1 the modules named by the remaining
# arguments, their dependencies and a matching modules.dep for modprobe.
initramfs_add_modules() {
	local root="$1" tree files rel
	shift
	tree="$(kernel_modules_dir)"
	files="$(module_closure "$tree" "$@")" || die "module lookup failed"
	for rel in $files; do copy_module "$tree" "$rel" "$root"; done
	awk -v files="$files" '
		BEGIN { n = split(files, list, "\n"); for (i = 1; i <= n; i++) keep[list[i] ":"] = 1 }
		$1 in keep
	' "$tree/modules.dep" | sed -E 's/\.ko\.(xz|zst)/.ko/g' \
		>"${root}/lib/modules/$(kernel_release)/modules.dep"
}

# Creates the base tree in staging root $1: directories, static busybox in
# /bin with one symlink per applet.
initramfs_add_busybox() {
	local root="$1" applet
	[[ -x "$INITRAMFS_BUSYBOX" ]] || die "$INITRAMFS_BUSYBOX missing (apt-get install busybox-static)"
	mkdir -p "$root"/{bin,dev,proc,sys,tmp,root}
	cp "$INITRAMFS_BUSYBOX" "$root/bin/busybox"
	for applet in $("${INITRAMFS_RUN[@]}" "$INITRAMFS_BUSYBOX" --list); do
		[[ "$applet" == busybox ]] || ln -s busybox "$root/bin/$applet"
	done
}

# Packs staging root $1 into gzip-compressed newc cpio $2 (atomically).
initramfs_pack() {
	local root="$1" out="$2"
	(cd "$root" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc --owner 0:0 --quiet) | gzip -6 >"${out}.tmp"
	mv "${out}.tmp" "$out"
}
