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
#   make dkms-install   install the sources in /usr/src, build with DKMS
#   make dkms-remove    remove them from DKMS and /usr/src
#   make deb            the pymalloc-dkms Debian package, in build/deb
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

VERSION := $(shell cat VERSION)
# KVER: the kernel to build for; DKMS_SOURCES and DKMS_FLAGS (dkms's
# --dkmstree, --sourcetree, --installtree) let make check use trees of
# its own instead of the system's.
KVER ?= $(shell uname -r)
DKMS_SOURCES ?= /usr/src
DKMS_SRC = $(DKMS_SOURCES)/pymalloc-$(VERSION)
DKMS = dkms $(DKMS_FLAGS)

# The same files the Debian package installs (debian/rules).
dkms-install:
	rm -rf "$(DKMS_SRC)"
	mkdir -p "$(DKMS_SRC)"
	cp -r Kbuild VERSION src include "$(DKMS_SRC)/"
	sed 's/#MODULE_VERSION#/$(VERSION)/' dkms.conf >"$(DKMS_SRC)/dkms.conf"
	$(DKMS) add -m pymalloc -v $(VERSION)
	$(DKMS) build -m pymalloc -v $(VERSION) -k $(KVER)
	$(DKMS) install -m pymalloc -v $(VERSION) -k $(KVER)

dkms-remove:
	-$(DKMS) remove -m pymalloc -v $(VERSION) --all
	rm -rf "$(DKMS_SRC)"

deb:
	@bash scripts/deb.sh build/deb

.PHONY: all modules clean check demo bench testkernel usertest dkms-install \
	dkms-remove deb
