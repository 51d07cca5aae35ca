# SPDX-License-Identifier: GPL-2.0-only
#
# dmabuf-core: build the modules against a kernel tree, and the project's
# commands.  Kbuild holds the object list.
#
#   make                      modules for the running kernel
#   make KDIR=<headers>       modules for another kernel (DKMS passes
#                             KERNELRELEASE=<release>, which also works)
#   make check                all tests on every target kernel under QEMU
#   make demo                 the sharing demo on the newest target kernel
#   make lint                 checkpatch --strict, sparse and W=1
#   make clean

ifneq ($(KBUILD_MODULES),)
# Read by kbuild itself, on kernels that look for a Makefile.
include $(src)/Kbuild
else

KERNELRELEASE ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KERNELRELEASE)/build
PWD := $(shell pwd)

.PHONY: all modules clean check demo lint

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(PWD) modules

clean:
	-$(MAKE) -C $(KDIR) M=$(PWD) clean 2>/dev/null
	rm -rf build tests/bin

check:
	tests/harness/check.sh

demo:
	tests/harness/demo.sh

lint:
	tests/harness/lint.sh

endif
