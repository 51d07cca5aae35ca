#!/bin/sh
# Runs inside a q35 guest with QEMU's intel-iommu and edu device (boot.sh,
# modes iommu-translated and iommu-identity). Loads the modules, the demo
# importer's device 0 at 64 bits and the edu test importer, runs t_iommu
# (real device DMA through the IOMMU, or refusals where an identity domain
# cannot reach), unloads, and ends with the same done marker as
# run-tests.sh; on the debug kernel after a kmemleak scan and a look at
# its checkers. Every check name is in tests/guest/expected-iommu-*.txt.
M=/modules

CHECK_WHO=iommu
. /checks.sh

echo "iommu: kernel $(uname -r), iommu_translated=$(harness_arg iommu_translated none)"
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
kml=/sys/kernel/debug/kmemleak
[ -e $kml ] && echo clear >$kml
check "insmod dmabuf_core" insmod $M/dmabuf_core.ko
check "insmod dmabuf_demo_exporter" insmod $M/dmabuf_demo_exporter.ko
check "insmod dmabuf_demo_importer" insmod $M/dmabuf_demo_importer.ko dma_bits=64
check "insmod dmabuf_test_edu, bound to the edu device" sh -c \
	"insmod $M/dmabuf_test_edu.ko && ls -d /sys/bus/pci/drivers/dmabuf_test_edu/0000:* >/dev/null"
run_prog t_iommu
check "rmmod dmabuf_test_edu" rmmod dmabuf_test_edu
check "rmmod dmabuf_demo_importer" rmmod dmabuf_demo_importer
check "rmmod dmabuf_demo_exporter" rmmod dmabuf_demo_exporter
check "rmmod dmabuf_core" rmmod dmabuf_core
kmemleak_check
debug_checkers_check
echo "DMABUF-TESTS-DONE $(harness_arg nonce none)"
