#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# capture-kmalloc-trace.sh OUT.xz - boot Debian's 6.12 kernel in QEMU with
# the kmem:kmalloc and kmem:kfree tracepoints on from early boot, run a
# busybox workload, and save the allocation trace (see guest/ktrace.sh) as
# OUT.xz. Pointers are traced unhashed (no_hash_pointers) so that frees can
# be matched with allocations; the trace keeps only sizes and pointers.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dest=$1
out="$PYM_ROOT/build/ktrace"
rm -rf "$out"
mkdir -p "$out/modules"
img=$(bash "$PYM_ROOT/scripts/distro.sh" | awk '$1 == "debian-6.12" { print $3 }')
[ -n "$img" ] || die "Debian 6.12 kernel not available"
bash "$PYM_ROOT/scripts/initramfs.sh" "$out/initramfs.cpio.gz" ktrace "$out/modules" /nonexistent
PYM_SMP=1 PYM_MEM=1G PYM_TIMEOUT=600 bash "$PYM_ROOT/scripts/qemu.sh" "$img" \
	"$out/initramfs.cpio.gz" "$out" \
	"no_hash_pointers trace_buf_size=96M trace_options=nooverwrite trace_event=kmem:kmalloc,kmem:kfree"
pym_suite_output "$out/results.log" ktrace >"$out/payload"
grep '^#' "$out/payload" >&2 || true
grep -v '^#' "$out/payload" | tr -d '\r' | base64 -d | gzip -dc | xz -9 >"$dest"
log "trace: $(xz -dc "$dest" | wc -l) events in $dest ($(stat -c %s "$dest") bytes)"
