# SPDX-License-Identifier: GPL-2.0-only
#
# dmabuf-core: build the modules against a kernel tree, and the project's
# commands.  Kbuild holds the object list.
#
#   make                      modules for the running kernel
#   make KDIR=<headers>       modules for another kernel (DKMS passes
#                             KERNELRELEASE=<release>, which also works)
#   make check                all tests on every target kernel under QEMU
#   make check-debug          all tests on our debug build of linux-source-6.12
#                             (KASAN, lockdep, DMA-API debug, kmemleak, ...)
#   make check-stress         the long runs (1M fuzzer operations) on every
#                             target kernel and the debug kernel; not in CI
#   make check-harness        proves the verdict catches crashes, missing
#                             programs, WARNs, hangs and leaks
#   make demo                 the sharing demo on the newest target kernel
#                             (ARCH=arm64: on the newest arm64 kernel)
#   make bench                benchmarks against the kernel's system heap
#                             (figures only, build/bench/); not in CI
#   make lint                 checkpatch --strict, sparse and W=1
#   make docs                 the kernel API as section 9 man pages in
#                             build/docs/man9 (kernel-doc from linux-source)
#   make check-package        Debian packages + lintian, then the DKMS
#                             upgrade scenario (6.1 -> 6.12) under QEMU,
#                             Debian's dkms-autopkgtest under autopkgtest,
#                             and the packages cross-built and DKMS
#                             cross-building for 6.1 and 6.12 arm64 (6.12
#                             booted)
#   make check-secureboot     DKMS-signed modules on Debian's signed 6.12
#                             booted under Secure Boot (OVMF, shim, grub,
#                             MOK): they load, bad signatures are refused
#   make clean
#   make install [DESTDIR=]   modules into updates/, depmod, headers,
#                             Module.symvers, udev rule (README: "Installing
#                             with DKMS or Debian packages")
#   make uninstall
#   make install-dkms         the sources into /usr/src/dmabuf-core-<ver>,
#                             then dkms add + install (no dkms with DESTDIR)
#   make uninstall-dkms
#   make install-dkms-example the example third-party driver's sources into
#                             /usr/src/dmabuf-example-<ver>, dkms add + install
#   make uninstall-dkms-example

ifneq ($(KBUILD_MODULES),)
# Read by kbuild itself, on kernels that look for a Makefile.
include $(src)/Kbuild
else

KERNELRELEASE ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KERNELRELEASE)/build
PWD := $(shell pwd)

.PHONY: all modules clean check check-debug check-stress check-harness check-package check-secureboot
.PHONY: demo bench lint docs
.PHONY: install uninstall install-dkms uninstall-dkms install-dkms-example uninstall-dkms-example

# Headers of an arm64 kernel on a machine that is not arm64 (DKMS in an
# amd64 root that holds an arm64 board's headers): kbuild cross-builds,
# with Debian's aarch64-linux-gnu- compiler unless CROSS_COMPILE names
# another (Debian's 6.12 and newer headers name their own).  Debian's 6.1
# headers would otherwise compile with the machine's gcc.  An ARCH other
# than arm64 is the caller's to keep.
ifeq ($(filter-out arm64,$(ARCH)),)
ifneq ($(shell uname -m),aarch64)
ifneq ($(shell grep -sx CONFIG_ARM64=y $(KDIR)/.config),)
KBUILD_CROSS := ARCH=arm64 CROSS_COMPILE=$(or $(CROSS_COMPILE),aarch64-linux-gnu-)
endif
endif
endif

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(PWD) $(KBUILD_CROSS) modules

clean:
	-$(MAKE) -C $(KDIR) M=$(PWD) $(KBUILD_CROSS) clean 2>/dev/null
	rm -rf build tests/bin tests/bin-arm64

check:
	tests/harness/check.sh

check-debug:
	CHECK_SET=debug tests/harness/check.sh

check-stress:
	CHECK_SET=stress tests/harness/check.sh

check-harness:
	tests/harness/check-harness.sh

demo:
	tests/harness/demo.sh

bench:
	tests/harness/bench.sh

lint:
	tests/harness/lint.sh

check-package:
	tests/harness/package.sh
	tests/harness/upgrade.sh
	tests/harness/autopkgtest.sh
	tests/harness/package-arm64.sh

# Uses check-package's .debs (build/packages/); builds them when missing
# or made from another tree.
check-secureboot:
	tests/harness/secureboot.sh

docs:
	scripts/render-docs build/docs $(KERNEL_DOC)

# ---- installing --------------------------------------------------------------

DMABUF_VERSION := $(shell cat VERSION)
# Every module Kbuild can build (dmabuf_selftest too: uninstall removes what
# is there).
MODULE_NAMES := $(shell sed -n 's/^obj-m += \(.*\)\.o$$/\1/p' Kbuild)

INSTALL_MOD_DIR ?= updates
UDEVRULESDIR ?= /usr/lib/udev/rules.d
INCLUDEDIR ?= /usr/include
# Kernel API header and, per kernel release, Module.symvers, for drivers
# built against dmabuf_core's exports.
KAPIDIR ?= /usr/src/dmabuf-core
DKMS_SRCDIR = /usr/src/dmabuf-core-$(DMABUF_VERSION)
EXAMPLE_SRCDIR = /usr/src/dmabuf-example-$(DMABUF_VERSION)
UDEV_RULE := udev/60-dmabuf-core.rules

# The release the tree in KDIR builds for, from its utsrelease.h: not
# `uname -r` when KDIR names another kernel (and `make kernelrelease` in
# Debian's 6.1 headers says 6.1.N).
KREL = $(or $(shell sed -n 's/.*UTS_RELEASE "\(.*\)".*/\1/p' \
	$(KDIR)/include/generated/utsrelease.h 2>/dev/null),$(KERNELRELEASE))
MODDIR = $(DESTDIR)/lib/modules/$(KREL)/$(INSTALL_MOD_DIR)
# Debian's headers sign at modules_install (CONFIG_MODULE_SIG_ALL) with a key
# they do not ship: without the key, install unsigned and skip sign-file's
# errors.
SIG_KEY = $(shell sed -n 's/^CONFIG_MODULE_SIG_KEY="\(.*\)"/\1/p' $(KDIR)/.config 2>/dev/null)
NO_SIGN = $(if $(filter pkcs11:%,$(SIG_KEY)),,$(if $(and $(SIG_KEY),\
	$(wildcard $(SIG_KEY) $(KDIR)/$(SIG_KEY))),,CONFIG_MODULE_SIG_ALL=))

# depmod runs here, not in kbuild (which skips it without System.map), and
# only for the live system.
install: modules
	$(MAKE) -C $(KDIR) M=$(PWD) $(KBUILD_CROSS) KERNELRELEASE=$(KREL) \
		INSTALL_MOD_PATH=$(DESTDIR) INSTALL_MOD_DIR=$(INSTALL_MOD_DIR) \
		DEPMOD=true $(NO_SIGN) modules_install
	install -D -m 644 include/uapi/linux/dmabuf_core.h \
		$(DESTDIR)$(INCLUDEDIR)/linux/dmabuf_core.h
	install -D -m 644 include/uapi/linux/dmabuf_demo.h \
		$(DESTDIR)$(INCLUDEDIR)/linux/dmabuf_demo.h
	install -D -m 644 include/linux/dmabuf_core.h \
		$(DESTDIR)$(KAPIDIR)/include/linux/dmabuf_core.h
	install -D -m 644 include/linux/dmabuf_core_pages.h \
		$(DESTDIR)$(KAPIDIR)/include/linux/dmabuf_core_pages.h
	install -D -m 644 Module.symvers $(DESTDIR)$(KAPIDIR)/$(KREL)/Module.symvers
	if [ -f $(UDEV_RULE) ]; then \
		install -D -m 644 $(UDEV_RULE) $(DESTDIR)$(UDEVRULESDIR)/$(notdir $(UDEV_RULE)); \
	fi
	if [ -z "$(DESTDIR)" ]; then depmod -a $(KREL); fi

# Removes the modules and Module.symvers of one kernel release; the headers
# and the udev rule go with the last release.
uninstall:
	rm -f $(foreach m,$(MODULE_NAMES),$(MODDIR)/$(m).ko $(MODDIR)/$(m).ko.*)
	rm -rf $(DESTDIR)$(KAPIDIR)/$(KREL)
	if [ -z "$$(ls $(DESTDIR)$(KAPIDIR) 2>/dev/null | grep -vx include)" ]; then \
		rm -rf $(DESTDIR)$(KAPIDIR) \
			$(DESTDIR)$(INCLUDEDIR)/linux/dmabuf_core.h \
			$(DESTDIR)$(INCLUDEDIR)/linux/dmabuf_demo.h \
			$(DESTDIR)$(UDEVRULESDIR)/$(notdir $(UDEV_RULE)); \
	fi
	if [ -z "$(DESTDIR)" ]; then depmod -a $(KREL); fi

# The DKMS source tree: what kbuild needs and dkms.conf with the version
# from VERSION (debian/rules uses this target too).
install-dkms:
	rm -rf $(DESTDIR)$(DKMS_SRCDIR)
	install -d $(DESTDIR)$(DKMS_SRCDIR)
	cp --parents Kbuild Makefile VERSION scripts/dkms-symvers \
		$$(find src include -name '*.[ch]' ! -name '*.mod.c' | LC_ALL=C sort) $(DESTDIR)$(DKMS_SRCDIR)/
	sed 's/#MODULE_VERSION#/$(DMABUF_VERSION)/g' dkms.conf \
		>$(DESTDIR)$(DKMS_SRCDIR)/dkms.conf
	chmod -R u=rwX,go=rX $(DESTDIR)$(DKMS_SRCDIR)
	install -D -m 644 include/linux/dmabuf_core.h \
		$(DESTDIR)$(KAPIDIR)/include/linux/dmabuf_core.h
	install -D -m 644 include/linux/dmabuf_core_pages.h \
		$(DESTDIR)$(KAPIDIR)/include/linux/dmabuf_core_pages.h
	if [ -f $(UDEV_RULE) ]; then \
		install -D -m 644 $(UDEV_RULE) $(DESTDIR)$(UDEVRULESDIR)/$(notdir $(UDEV_RULE)); \
	fi
	if [ -z "$(DESTDIR)" ]; then \
		if [ -z "$$(dkms status -m dmabuf-core -v $(DMABUF_VERSION))" ]; then \
			dkms add -m dmabuf-core -v $(DMABUF_VERSION); \
		fi && \
		dkms install --force -m dmabuf-core -v $(DMABUF_VERSION) -k $(KERNELRELEASE); \
	fi

uninstall-dkms:
	if [ -z "$(DESTDIR)" ] && dkms status -m dmabuf-core -v $(DMABUF_VERSION) | grep -q .; then \
		dkms remove -m dmabuf-core -v $(DMABUF_VERSION) --all; \
	fi
	rm -rf $(DESTDIR)$(DKMS_SRCDIR) $(DESTDIR)$(UDEVRULESDIR)/$(notdir $(UDEV_RULE)) \
		$(DESTDIR)$(KAPIDIR)/include
	-rmdir $(DESTDIR)$(KAPIDIR) 2>/dev/null

# The example third-party driver's DKMS tree (debian/rules uses it for
# dmabuf-example-dkms), built against the installed dmabuf-core.
install-dkms-example:
	rm -rf $(DESTDIR)$(EXAMPLE_SRCDIR)
	install -d $(DESTDIR)$(EXAMPLE_SRCDIR)
	cd examples/dmabuf-example && cp --parents Kbuild Makefile \
		$$(find . -name '*.[ch]' ! -name '*.mod.c' | LC_ALL=C sort) $(DESTDIR)$(EXAMPLE_SRCDIR)/
	sed 's/#MODULE_VERSION#/$(DMABUF_VERSION)/g' examples/dmabuf-example/dkms.conf \
		>$(DESTDIR)$(EXAMPLE_SRCDIR)/dkms.conf
	chmod -R u=rwX,go=rX $(DESTDIR)$(EXAMPLE_SRCDIR)
	if [ -z "$(DESTDIR)" ]; then \
		if [ -z "$$(dkms status -m dmabuf-example -v $(DMABUF_VERSION))" ]; then \
			dkms add -m dmabuf-example -v $(DMABUF_VERSION); \
		fi && \
		dkms install --force -m dmabuf-example -v $(DMABUF_VERSION) -k $(KERNELRELEASE); \
	fi

uninstall-dkms-example:
	if [ -z "$(DESTDIR)" ] && dkms status -m dmabuf-example -v $(DMABUF_VERSION) | grep -q .; then \
		dkms remove -m dmabuf-example -v $(DMABUF_VERSION) --all; \
	fi
	rm -rf $(DESTDIR)$(EXAMPLE_SRCDIR)

endif
