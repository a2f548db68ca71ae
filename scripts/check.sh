#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: every test pymalloc has.
#
#   usertest         the allocator core in user space under ASan + UBSan
#   runner           the judge's own rules (scripts/judge_test.py)
#   style            checkpatch --strict on every C file, kernel-doc on exports,
#                    MODULE_PARM_DESC on module parameters
#   debug            KUnit + kselftests on the debug kernel (KASAN, lockdep,
#                    kmemleak, UBSAN), judged from the console log too;
#                    then the core KUnit suite again with init_on_alloc=1
#                    init_on_free=1 (run debug-init)
#   debian-6.1       kselftests on Debian's 6.1 kernel (production config)
#   debian-6.12      kselftests on Debian's 6.12 kernel (production config)
#   debian-6.12-rt   kselftests on Debian's 6.12 PREEMPT_RT kernel
#   debian-6.12-cloud  kselftests on Debian's 6.12 cloud kernel
#
# The Debian kernels load pymalloc.ko as the pymalloc-dkms package builds
# it (make deb, then DKMS against the installed linux-headers), and the
# example client pym_cache.ko built against the package's headers.
#
# SUITES="usertest debug" runs a subset; FILTER=glob is passed to
# kunit.filter_glob (e.g. FILTER='pymalloc_alloc.realloc*') and to the
# user-space test (as a substring). Ends with "N passed, N failed, N skipped"
# and exits non-zero when anything failed or could not run.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

SUITES=${SUITES:-usertest runner style debug debian-6.1 debian-6.12 debian-6.12-rt debian-6.12-cloud}
FILTER=${FILTER:-}
out="$PYM_ROOT/build/check"
tsv="$out/results.tsv"
rm -rf "$out"
mkdir -p "$out"
: >"$tsv"
start=$(date +%s)

record() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$tsv"; }
fatal() {
	log "check: $*"
	record "${stage:-setup}" setup 0 1 0 "$*"
}

want() { case " $SUITES " in *" $1 "*) return 0 ;; esac; return 1; }

stage=setup
if [ "$(id -u)" -eq 0 ]; then
	apt-get update >"$out/apt-update.log" 2>&1 || log "check: apt-get update failed (offline?), continuing"
	_pym_apt_updated=1
fi
pym_need_packages build-essential python3 qemu-system-x86 busybox-static \
	cpio gzip kmod bc bison flex libelf-dev libssl-dev linux-source-6.12 ||
	exit 1

build_modules() { # name kdir -> prints the module dir
	local name=$1 kdir=$2
	pym_build_modules "$out/$name" "$kdir" W=1 || return 1
	if grep -E 'warning:' "$out/$name/build.log" >&2; then
		log "check: $name: compiler warnings (W=1) count as a failure"
		return 1
	fi
	echo "$out/$name/modules"
}

# Run a host-side TAP producer as suite $1 of run $1.
run_host_suite() { # name command...
	local name=$1 rc
	shift
	mkdir -p "$out/$name"
	"$@" >"$out/$name/results.log" 2>&1
	rc=$?
	{
		echo "PYM-SUITE-BEGIN $name"
		grep -v '^make' "$out/$name/results.log"
		echo "PYM-SUITE-END $name rc=$rc"
		echo "PYM-DONE"
	} >"$out/$name/framed.log"
	python3 "$PYM_ROOT/scripts/judge.py" --run "$name" --console /dev/null \
		--results "$out/$name/framed.log" --tsv "$tsv" --expect "$name"
	# A host suite has no kernel log: drop its kernel-log row.
	sed -i "/^$name\tkernel-log\t/d" "$tsv"
}

# The debug guest has two NUMA nodes, one socket of two CPUs and 1 GiB
# each (a node spanning part of a socket makes the kernel warn at boot).
DEBUG_NUMA="-object memory-backend-ram,id=m0,size=1G -object memory-backend-ram,id=m1,size=1G \
-numa node,nodeid=0,cpus=0-1,memdev=m0 -numa node,nodeid=1,cpus=2-3,memdev=m1"

run_guest() { # name kernel moddir suites expect [cmdline]
	local name=$1 kernel=$2 mods=$3 suites=$4 expect=$5 cmdline=${6:-} rc
	scripts_dir="$PYM_ROOT/scripts"
	bash "$scripts_dir/initramfs.sh" "$out/$name/initramfs.cpio.gz" "$suites" \
		"$mods" "$out/bin" || { fatal "$name: initramfs"; return; }
	log "check: $name: booting ($suites)"
	# Hung guests only: every test inside has a timeout of its own.
	export PYM_TIMEOUT=${PYM_TIMEOUT:-1500}
	bash "$scripts_dir/qemu.sh" "$kernel" "$out/$name/initramfs.cpio.gz" \
		"$out/$name" "$cmdline"
	rc=$?
	# A boot that hung before init ran (qemu.sh: 125): once more.
	if [ $rc -eq 125 ]; then
		log "check: $name: the guest hung while booting; booting again"
		mv "$out/$name/console.log" "$out/$name/console-boot1.log"
		bash "$scripts_dir/qemu.sh" "$kernel" "$out/$name/initramfs.cpio.gz" \
			"$out/$name" "$cmdline"
		rc=$?
	fi
	# A kernel report before any module was loaded is the boot's (seen
	# under TCG on a loaded machine): boot once more, and say so.
	python3 "$scripts_dir/judge.py" --run "$name" --console "$out/$name/console.log" \
		--results "$out/$name/results.log" --qemu-rc $rc --tsv "$tsv" \
		--expect "$expect" --boot-retry
	[ $? -eq 3 ] || return 0
	log "check: $name: kernel report during boot, before pymalloc was loaded; booting again"
	mv "$out/$name/console.log" "$out/$name/console-boot1.log"
	bash "$scripts_dir/qemu.sh" "$kernel" "$out/$name/initramfs.cpio.gz" \
		"$out/$name" "$cmdline"
	rc=$?
	python3 "$scripts_dir/judge.py" --run "$name" --console "$out/$name/console.log" \
		--results "$out/$name/results.log" --qemu-rc $rc --tsv "$tsv" \
		--expect "$expect" --note "boot retried: report before load (console-boot1.log)"
}

if want usertest; then
	stage=usertest
	log "check: user-space core tests (ASan + UBSan)"
	run_host_suite usertest make -s -C "$PYM_ROOT/tools/testing/core" \
		OUT="$out/usertest" test FILTER="${FILTER%%.*}"
fi

distro_wanted() {
	want debian-6.1 || want debian-6.12 || want debian-6.12-rt || want debian-6.12-cloud
}

if want runner; then
	stage=runner
	log "check: the judge's rules"
	run_host_suite runner python3 "$PYM_ROOT/scripts/judge_test.py"
fi

tools=""
if want style || want debug || distro_wanted; then
	stage=setup
	if ! tools=$(pym_kernel_tools); then
		fatal "the kernel's tools could not be extracted from linux-source-6.12"
		tools=""
	fi
fi

if want style && [ -n "$tools" ]; then
	stage=style
	log "check: checkpatch and kernel-doc"
	run_host_suite style bash "$PYM_ROOT/scripts/style.sh" "$tools"
fi

# The kselftest program is static: one binary for every guest.
if { want debug || distro_wanted; } && [ -n "$tools" ]; then
	stage=setup
	mkdir -p "$out/bin"
	if ! gcc -static -O2 -Wall -Werror -I"$tools/tools/testing/selftests" -I"$PYM_ROOT/include" \
		-o "$out/bin/pymalloc_test" "$PYM_ROOT/selftests/pymalloc_test.c" \
		2>"$out/selftest-build.log"; then
		cat "$out/selftest-build.log" >&2
		fatal "the kselftest program did not build"
	fi
	if ! make -s -C "$PYM_ROOT/tools/pymstat" OUT="$out/bin" STATIC=1 \
		>"$out/pymstat-build.log" 2>&1; then
		cat "$out/pymstat-build.log" >&2
		fatal "pymstat did not build"
	fi
fi

if want debug; then
	stage=testkernel
	if kv=$(bash "$PYM_ROOT/scripts/testkernel.sh"); then
		eval "$kv"
	else
		fatal "the debug kernel could not be built"
	fi
fi

if want debug && [ -n "${KDIR:-}" ]; then
	stage=debug
	if mods=$(build_modules debug "$KDIR"); then
		# Every KASAN report, not only the first, reaches the judge.
		# The arena descriptors' cache poisoned: a write to one after
		# its grace period, or a read that relies on a zeroed slab,
		# shows.
		cmd="kasan_multi_shot slub_debug=P,pym_arena"
		[ -n "$FILTER" ] && cmd="$cmd kunit.filter_glob=$FILTER"
		PYM_SMP=4,sockets=2,cores=2,threads=1 PYM_QEMU_EXTRA="$DEBUG_NUMA" \
			run_guest debug "$KERNEL" "$mods" \
			"kunit kselftest" "kunit kselftest" "$cmd"
		# The zeroing policies only show when the kernel turns them on.
		if [ -z "$FILTER" ]; then
			stage=debug-init
			mkdir -p "$out/debug-init"
			run_guest debug-init "$KERNEL" "$mods" kunit kunit \
				"kasan_multi_shot init_on_alloc=1 init_on_free=1 kunit.filter_glob=pymalloc_alloc.*"
		fi
	else
		fatal "modules did not build against the debug kernel"
	fi
fi

# make dkms-install and dkms-remove, in trees of their own: the module
# lands in the install tree, and nothing is left behind.
dkms_make_targets() { # kernelrelease
	local d="$out/dkms-make" ko
	rm -rf "$d"
	mkdir -p "$d/src" "$d/tree" "$d/inst/$1"
	local vars=(KVER="$1" DKMS_SOURCES="$d/src"
		DKMS_FLAGS="--sourcetree $d/src --dkmstree $d/tree --installtree $d/inst")
	if ! make -C "$PYM_ROOT" dkms-install "${vars[@]}" >"$d/install.log" 2>&1; then
		fatal "make dkms-install failed, see $d/install.log"
		return
	fi
	ko=$(find "$d/inst/$1" -name 'pymalloc.ko*')
	make -C "$PYM_ROOT" dkms-remove "${vars[@]}" >"$d/remove.log" 2>&1
	if [ -z "$ko" ] || [ -n "$(find "$d/src" "$d/tree" "$d/inst" -name 'pymalloc*')" ]; then
		fatal "make dkms-install did not install pymalloc.ko, or dkms-remove left files"
		return
	fi
	record dkms-make targets 1 0 0 "make dkms-install, dkms-remove on $1"
}

if distro_wanted && [ -n "$tools" ]; then
	stage=distro
	if ! distros=$(bash "$PYM_ROOT/scripts/distro.sh"); then
		fatal "Debian kernels could not be set up"
		distros=""
	fi
	# What users install: the Debian package, built with DKMS from it.
	stage=package
	if deb=$(bash "$PYM_ROOT/scripts/deb.sh" "$out/deb"); then
		record package deb 1 0 0 "$(basename "$deb")"
	else
		fatal "make deb failed"
		deb=""
	fi
	while read -r name kdir img; do
		[ -n "$name" ] && want "$name" || continue
		stage=$name
		if ! mods=$(build_modules "$name" "$kdir"); then
			fatal "modules did not build against $name"
			continue
		fi
		kver=$(basename "$(dirname "$kdir")")
		if [ -z "$deb" ]; then
			fatal "$name: no package to build with DKMS"
			continue
		fi
		if ! bash "$PYM_ROOT/scripts/dkms.sh" "$deb" "$out/$name/dkms" \
			"$kver" "$kdir" "$mods"; then
			fatal "$name: the DKMS build from the package failed"
			continue
		fi
		record "$name" dkms 1 0 0 "pymalloc.ko by DKMS, pym_cache.ko against the package"
		[ "$name" = debian-6.12 ] && dkms_make_targets "$kver"
		run_guest "$name" "$img" "$mods" "kselftest" "kselftest"
	done <<<"$distros"
fi

python3 - "$tsv" "$(($(date +%s) - start))" <<'EOF'
import sys
rows = [l.rstrip('\n').split('\t') for l in open(sys.argv[1]) if l.strip()]
print()
print('%-18s %-12s %7s %7s %8s  %s' % ('run', 'suite', 'passed', 'failed', 'skipped', 'note'))
print('-' * 76)
tp = tf = ts = 0
for run, suite, p, f, s, note in rows:
    p, f, s = int(p), int(f), int(s)
    tp, tf, ts = tp + p, tf + f, ts + s
    print('%-18s %-12s %7d %7d %8d  %s' % (run, suite, p, f, s, note))
print('-' * 76)
print('wall time %s s' % sys.argv[2])
if tp + tf == 0:
    tf = 1
    print('nothing ran: counted as a failure')
print('%d passed, %d failed, %d skipped' % (tp, tf, ts))
sys.exit(1 if tf else 0)
EOF
