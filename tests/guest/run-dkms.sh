#!/bin/sh
# Runs in the guest of the DKMS upgrade scenario (tests/harness/upgrade.sh):
# the modules are only where DKMS installed them, so everything loads by name
# through modprobe and the depmod index, as on an installed system.
CHECK_WHO=dkms-guest
. /checks.sh

echo "guest: kernel $(uname -r)"
# The example third-party driver, built by DKMS against the installed
# dmabuf-core, first: its dependency comes from the depmod index.
check "modprobe dmabuf_example (pulls in dmabuf_core)" modprobe dmabuf_example
check "dmabuf_core loaded as the example's dependency" loaded dmabuf_core
check "modprobe dmabuf_demo_importer" \
	modprobe dmabuf_demo_importer dma_bits=64,32 max_seg_kb=0,64
check "modprobe dmabuf_demo_exporter" modprobe dmabuf_demo_exporter
# What the README has a user run after installing the packages: the
# packaged dmabuf-demo (the story of `make demo`) and dmabuf-ctl, linked
# against Debian's libraries; then two test programs under run_prog.
run_packaged_demo
check "dmabuf-ctl list (packaged) runs" /tests/dmabuf-ctl list
run_prog t_alloc
# The example's buffers and the demo modules' (no vgem in this guest).
run_prog t_example --without-vgem
check "rmmod dmabuf_example" rmmod dmabuf_example
# busybox's modprobe -r also removes the dependencies and fails when one is
# still in use: take the exporter out by name, then let modprobe -r remove
# the importer and dmabuf_core with it.
check "rmmod dmabuf_demo_exporter" rmmod dmabuf_demo_exporter
check "modprobe -r dmabuf_demo_importer (and dmabuf_core)" modprobe -r dmabuf_demo_importer
if grep -q '^dmabuf' /proc/modules; then
	fail "modules still loaded: $(grep '^dmabuf' /proc/modules)"
else
	pass "all modules unloaded"
fi
echo "DMABUF-TESTS-DONE $(harness_arg nonce none)"
