#!/bin/sh
# Runs inside the demo guest: loads the modules and tells the sharing story.
M=/modules
echo "guest: kernel $(uname -r)"
insmod $M/dmabuf_core.ko || echo "FAIL: demo: insmod dmabuf_core"
insmod $M/dmabuf_demo_exporter.ko || echo "FAIL: demo: insmod dmabuf_demo_exporter"
insmod $M/dmabuf_demo_importer.ko dma_bits=64,32 max_seg_kb=0,64 ||
	echo "FAIL: demo: insmod dmabuf_demo_importer"
/tests/demo_share
rmmod dmabuf_demo_importer dmabuf_demo_exporter dmabuf_core ||
	echo "FAIL: demo: modules did not unload"
echo DMABUF-TESTS-DONE
