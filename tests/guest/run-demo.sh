#!/bin/sh
# Runs inside the demo guest: loads the modules and tells the sharing story.
M=/modules
CHECK_WHO=demo
. /checks.sh
echo "guest: kernel $(uname -r)"
# A stock DRM driver of this kernel joins the sharing.
load_stock vgem || echo "FAIL: demo: loading the stock vgem driver"
for i in 1 2 3 4 5 6 7 8 9 10; do
	[ -c /dev/dri/card0 ] && break
	sleep 0.2
done
insmod $M/dmabuf_core.ko || echo "FAIL: demo: insmod dmabuf_core"
insmod $M/dmabuf_demo_exporter.ko || echo "FAIL: demo: insmod dmabuf_demo_exporter"
insmod $M/dmabuf_demo_importer.ko dma_bits=64,32 max_seg_kb=0,64 ||
	echo "FAIL: demo: insmod dmabuf_demo_importer"
/tests/demo_share
rmmod vgem dmabuf_demo_importer dmabuf_demo_exporter dmabuf_core ||
	echo "FAIL: demo: modules did not unload"
echo DMABUF-TESTS-DONE
