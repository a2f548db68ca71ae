# SPDX-License-Identifier: GPL-2.0
#
# pymalloc - out-of-tree kernel module. The module itself is described in
# Kbuild; this file is the developer's entry point:
#
#   make [KDIR=...]     build pymalloc.ko and the test/sample modules
#   make check          every test: user space, KUnit + kselftest in QEMU
#   make demo           boot the test kernel, run a workload, show stats
#   make bench          microbenchmarks against kmalloc, Debian 6.12 in QEMU
#   make testkernel     build or reuse the cached debug kernel
#   make usertest       the allocator core's unit tests under ASan/UBSan
#
KDIR ?= /lib/modules/$(shell uname -r)/build

all: modules

modules:
	@if [ ! -f "$(KDIR)/Makefile" ]; then \
		echo "error: KDIR=$(KDIR) is not a kernel build tree (no Makefile there)." >&2; \
		echo "       Install linux-headers-$$(uname -r) or pass KDIR=<kernel build dir>." >&2; \
		exit 1; \
	fi
	$(MAKE) -C "$(KDIR)" M="$(CURDIR)" modules

clean:
	@if [ -f "$(KDIR)/Makefile" ]; then $(MAKE) -C "$(KDIR)" M="$(CURDIR)" clean; fi
	$(MAKE) -C tools/testing/core clean
	rm -rf build

check:
	@bash scripts/check.sh

demo:
	@bash scripts/demo.sh

bench:
	@bash scripts/bench.sh

testkernel:
	@bash scripts/testkernel.sh

usertest:
	$(MAKE) -C tools/testing/core test

.PHONY: all modules clean check demo bench testkernel usertest
