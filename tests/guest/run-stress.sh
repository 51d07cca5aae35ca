#!/bin/sh
# Runs inside the guest for `make check-stress` (boot.sh, mode stress): the
# long runs.  Loads the modules as run-tests.sh does, runs the fuzzer for
# dmabuf_harness.fuzz_ops operations (default 1000000; its seed from
# dmabuf_harness.fuzz_seed, else a random one that it prints) and the races
# 20 times longer than make check (dmabuf_harness.race_scale), unloads,
# checks for leaks, and ends with the same done marker as run-tests.sh.
# Every check name is in tests/guest/expected-stress.txt.
M=/modules

CHECK_WHO=stress
. /checks.sh

echo "stress: kernel $(uname -r)"
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
kml=/sys/kernel/debug/kmemleak
[ -e $kml ] && echo clear >$kml
check "insmod dmabuf_core" insmod $M/dmabuf_core.ko
check "insmod dmabuf_demo_exporter" insmod $M/dmabuf_demo_exporter.ko
check "insmod dmabuf_demo_importer" \
	insmod $M/dmabuf_demo_importer.ko dma_bits=64,32 max_seg_kb=0,64
run_prog t_fuzz -n "$(harness_arg fuzz_ops 1000000)"
run_prog t_race -n "$(harness_arg race_scale 20)"
check "rmmod dmabuf_demo_importer" rmmod dmabuf_demo_importer
check "rmmod dmabuf_demo_exporter" rmmod dmabuf_demo_exporter
check "rmmod dmabuf_core" rmmod dmabuf_core
kmemleak_check
echo "DMABUF-TESTS-DONE $(harness_arg nonce none)"
