#!/bin/sh
# Runs inside the demo guest: loads the modules and tells the sharing story.
# Its output has a serial port of its own (ttyS1), so nothing the demo
# prints can be read as a kernel line; the names it must report are in
# tests/guest/expected-demo.txt.
M=/modules
CHECK_WHO=demo
. /checks.sh

echo "guest: kernel $(uname -r)"
# A stock DRM driver of this kernel joins the sharing.
load_vgem
check "insmod dmabuf_core" insmod $M/dmabuf_core.ko
check "insmod dmabuf_demo_exporter" insmod $M/dmabuf_demo_exporter.ko
check "insmod dmabuf_demo_importer" \
	insmod $M/dmabuf_demo_importer.ko dma_bits=64,32 max_seg_kb=0,64
# And a stock V4L2 driver as a videobuf2-dma-contig importer (step 10).
load_vivid "load the stock vivid driver (dma-contig)" allocators=1
# The story, and its one PASS line at the end: a crash before it misses
# that name, and its status says how it ended.
/tests/demo_share
st=$?
if [ $st -eq 0 ]; then
	pass "demo_share ran to completion"
elif [ $st -gt 128 ]; then
	fail "demo_share ran to completion: killed by signal $((st - 128))"
else
	fail "demo_share ran to completion: exit $st"
fi
check "the modules unload" rmmod vivid vgem dmabuf_demo_importer dmabuf_demo_exporter dmabuf_core
echo "DMABUF-TESTS-DONE $(harness_arg nonce none)"
