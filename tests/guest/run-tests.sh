#!/bin/sh
# Runs inside the test guest (busybox).  Loads the modules in every way a
# user would, runs the test programs, unloads, and prints one PASS:/FAIL:
# line per check plus a final "DMABUF-TESTS-DONE <nonce>" marker for the
# harness (the nonce is this boot's, from the kernel command line). Every
# check's name is in tests/guest/expected-names.txt.
M=/modules
T=/tests

CHECK_WHO=guest
. /checks.sh

# Kernel API selftest: results in the kernel log and the module parameters.
selftest() {
	check "insmod dmabuf_core" insmod $M/dmabuf_core.ko
	check "insmod dmabuf_selftest" insmod $M/dmabuf_selftest.ko
	dmesg | sed -n 's/^\[[^]]*\] *//; /^\(PASS\|FAIL\): selftest:/p' >/tmp/selftest.out
	cat /tmp/selftest.out
	p=/sys/module/dmabuf_selftest/parameters
	# Its own counters against the lines the log showed.
	seen="$(grep -c '^PASS:' /tmp/selftest.out) $(grep -c '^FAIL:' /tmp/selftest.out)"
	if [ "$seen" = "$(cat $p/passed 2>&1) $(cat $p/failed 2>&1)" ] &&
	   [ "${seen% *}" -gt 0 ]; then
		pass "selftest counters match the log: $seen"
	else
		fail "selftest counters match the log: passed/failed $(cat $p/passed 2>&1)/$(cat $p/failed 2>&1), log lines $seen"
	fi
	if [ -r $p/exports ] && [ "$(cat $p/exports)" -gt 0 ] &&
	   [ "$(cat $p/exports)" = "$(cat $p/releases)" ]; then
		pass "selftest released every exported buffer exactly once: $(cat $p/releases)"
	else
		fail "selftest released every exported buffer exactly once: exports $(cat $p/exports 2>&1) releases $(cat $p/releases 2>&1)"
	fi
	# kmemleak's positive control (debug kernel): one allocation dropped on
	# purpose, which the check at the end must find.
	if [ -e /sys/kernel/debug/kmemleak ]; then
		check "plant a leak for kmemleak to find" \
			sh -c 'echo 1 >/sys/module/dmabuf_selftest/parameters/leak_canary'
	fi
	check "rmmod dmabuf_selftest" rmmod dmabuf_selftest
}

# Memory baseline before any of our modules is loaded (kB).
memfree() { sed -n 's/^MemFree: *\([0-9]*\) kB/\1/p' /proc/meminfo; }
# What the kernel keeps for other reasons than a leak (kB): reclaimable
# slab, stacks, page tables, per-cpu areas, free pages waiting on the
# per-cpu lists (MemFree leaves them out, and since 6.7 those lists grow
# with the rate of frees), and the stock modules the tests load and leave
# loaded (drm, videobuf2 and the like: their code stays).  Unreclaimable
# slab stays in the count: leaked chunk arrays, sg tables and records of
# ours would be there.  Pages of 4 KiB (amd64).
# On the debug kernel, KASAN's quarantine holds freed slab objects back:
# there unreclaimable slab is held too, and kmemleak finds slab leaks.
kept_kib() {
	if [ "$(harness_arg slab_quarantine 0)" = 1 ]; then
		keys='SReclaimable|SUnreclaim|KernelStack|PageTables|Percpu'
	else
		keys='SReclaimable|KernelStack|PageTables|Percpu'
	fi
	awk -v keys="^($keys):" '$0 ~ keys { k += $2 } END { print k }' /proc/meminfo
}
pcp_kib() { awk '$1 == "count:" { n += $2 } END { print n * 4 }' /proc/zoneinfo; }
modules_kib() { awk '{ b += $2 } END { print int(b / 1024) }' /proc/modules; }
held_kib() { echo $(($(kept_kib) + $(pcp_kib) + $(modules_kib))); }

echo "guest: kernel $(uname -r)"
# kmemleak (debug kernel): forget what boot left, report only the tests'.
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
[ -e /sys/kernel/debug/kmemleak ] && echo clear >/sys/kernel/debug/kmemleak
base_free=$(memfree)
base_held=$(held_kib)

# 1. libkmod: load, pin, unload.
run_prog t_kmod $M

# 2. In-kernel API tests.
selftest

# 3. /dev/dmabuf on its own.
for t in t_alloc t_bufops t_share; do
	run_prog $t
done

# 4. The demo modules: one 64-bit importer, one 32-bit with 64 KiB segments.
check "insmod dmabuf_demo_exporter" insmod $M/dmabuf_demo_exporter.ko
check "insmod dmabuf_demo_importer" \
	insmod $M/dmabuf_demo_importer.ko dma_bits=64,32 max_seg_kb=0,64
for n in dmabuf dmabuf-contig dmabuf-demo-exporter dmabuf-demo-importer0 dmabuf-demo-importer1; do
	check "node /dev/$n exists" test -c /dev/$n
done
run_prog t_demo
# Our trace events in tracefs, for a known sequence of the demo modules.
run_prog t_trace
# Cache maintenance on each sync path (kprobes on arm64's DMA syncs).
run_prog t_coherence
# The fuzzer, bounded (make check-stress runs it long): every node and
# buffer fd, random and boundary arguments, an oracle for each result.
run_prog t_fuzz -n "$(harness_arg fuzz_ops 20000)"
# Races between threads and processes (truly parallel on the debug kernel).
run_prog t_race
# Corners of fds and mappings: EMFILE, exec, offsets, mremap, fragmentation.
run_prog t_corners
# Memory cgroups, the global cap, no OOM killer (needs the demo pair).
run_prog t_memcg

# 5. The kernel's dma-buf world: heaps, udmabuf, and vgem as a stock peer.
load_vgem
run_prog t_interop
# What group video can make the demo nodes keep (cgroups, the hold cap),
# and their ioctls and faults under signals (a vgem fence).
run_prog t_kmem
# Allocation failures injected into those paths (kernels with failslab).
[ -d /sys/kernel/debug/failslab ] && run_prog t_faults
# A third-party driver built against the installed layout, sharing with
# the demo modules and vgem.
check "insmod dmabuf_example" insmod $M/dmabuf_example.ko
run_prog t_example
check "rmmod dmabuf_example" rmmod dmabuf_example
# dmabuf-ctl on buffers held by processes, a kernel importer and vgem.
run_prog t_ctl
check "rmmod vgem" rmmod vgem

load_vivid
run_prog t_vivid
check "rmmod vivid" rmmod vivid
# /dev/dmabuf-contig, and vivid as a videobuf2-dma-contig importer
# (allocators=1: one contiguous run below its 32-bit mask) capturing into it.
load_vivid "load the stock vivid driver with dma-contig buffers" allocators=1
run_ktap t_contig
check "rmmod vivid (dma-contig)" rmmod vivid
# Heap storage moves for a device that cannot reach it, instead of EBUSY
# (vgem: a fence the move waits for).
load_vgem "load the stock vgem driver for t_move"
run_ktap t_move
check "rmmod vgem (t_move)" rmmod vgem
# Constraints struct device cannot say: by device name and by importers.
run_ktap t_constrain

# 6. Everything unloads, nothing is left behind.
check "rmmod dmabuf_demo_importer" rmmod dmabuf_demo_importer
check "rmmod dmabuf_demo_exporter" rmmod dmabuf_demo_exporter
check "rmmod dmabuf_core" rmmod dmabuf_core
check "dmabuf-ctl stats without dmabuf_core exits 3, naming the module" \
	sh -c '/tests/dmabuf-ctl stats 2>/tmp/ctl.err; [ $? -eq 3 ] && grep -q "is dmabuf_core loaded" /tmp/ctl.err'
# The example names dmabuf_core in its modinfo: the depmod index knows.
check "modprobe dmabuf_example pulls in dmabuf_core" \
	sh -c 'modprobe dmabuf_example && grep -q "^dmabuf_core " /proc/modules'
check "modprobe -r dmabuf_example removes both" modprobe -r dmabuf_example
for m in dmabuf_core dmabuf_demo_exporter dmabuf_demo_importer dmabuf_selftest dmabuf_example; do
	loaded $m && fail "$m still loaded"
done
sync
echo 3 > /proc/sys/vm/drop_caches
end_free=$(memfree)
held=$(($(held_kib) - base_held))
delta=$(( (base_free - end_free - held) / 1024 ))
# What the held figure leaves unexplained is a few MiB; a page leak of the
# tests' churn is far more.
if [ $delta -lt 32 ]; then
	pass "memory back to baseline after unload: MemFree $base_free -> $end_free kB, $held kB more held (reclaimable slab, per-cpu lists, modules...)"
else
	fail "memory back to baseline after unload: MemFree $base_free -> $end_free kB, $held kB more held (reclaimable slab, per-cpu lists, modules...): $delta MiB lost"
fi

# A buffer in fragmented memory, after the MemFree check: freeing the
# gigabytes it takes leaves the per-cpu page lists full for a while.
check "insmod dmabuf_core for t_fragment" insmod $M/dmabuf_core.ko
check "insmod the demo modules for t_fragment" sh -c \
	"insmod $M/dmabuf_demo_exporter.ko && insmod $M/dmabuf_demo_importer.ko"
run_prog t_fragment
check "rmmod after t_fragment" \
	rmmod dmabuf_demo_importer dmabuf_demo_exporter dmabuf_core

# 7. The udev rule, with Debian's systemd-udevd: root:video 0660 nodes, a
#    video member allocates, others get EACCES. Loads, unloads, stops udevd.
if [ -f /run-udev.sh ]; then
	sh /run-udev.sh
else
	fail "udev: /run-udev.sh missing from the initramfs"
fi

# 8. On a kernel with kmemleak (the debug kernel): nothing unreferenced but
#    the leak planted on purpose, which must be reported.
kmemleak_check canary

# 9. The debug kernel's checkers: still armed at the end?
debug_checkers_check

echo "DMABUF-TESTS-DONE $(harness_arg nonce none)"
