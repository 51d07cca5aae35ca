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
for t in demo_share t_alloc t_example; do
	[ -x /tests/$t ] || fail "/tests/$t missing"
done
/tests/demo_share >/tmp/demo.out 2>&1 || fail "demo_share exited with status $?"
grep -E '^(PASS|FAIL):' /tmp/demo.out
/tests/t_alloc || fail "t_alloc exited with status $?"
# The example's buffers and the demo modules' (no vgem in this guest).
/tests/t_example --without-vgem || fail "t_example exited with status $?"
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
echo DMABUF-TESTS-DONE
