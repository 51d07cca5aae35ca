#!/bin/sh
# Runs inside a guest booted with swiotlb=force (boot.sh, mode nobounce):
# every direct DMA mapping would go through a bounce buffer. Loads the
# modules and vgem, runs t_nobounce (refusals instead of copies), unloads,
# and ends with the same done marker as run-tests.sh. Every check name is in
# tests/guest/expected-nobounce.txt.
M=/modules

CHECK_WHO=nobounce
. /checks.sh

echo "nobounce: kernel $(uname -r)"
check "insmod dmabuf_core" insmod $M/dmabuf_core.ko
check "insmod dmabuf_demo_exporter" insmod $M/dmabuf_demo_exporter.ko
check "insmod dmabuf_demo_importer" insmod $M/dmabuf_demo_importer.ko
load_vgem
run_prog t_nobounce
check "rmmod vgem" rmmod vgem
check "rmmod dmabuf_demo_importer" rmmod dmabuf_demo_importer
check "rmmod dmabuf_demo_exporter" rmmod dmabuf_demo_exporter
check "rmmod dmabuf_core" rmmod dmabuf_core
echo "DMABUF-TESTS-DONE $(harness_arg nonce none)"
