#!/bin/sh
# Runs inside the test guest, called by run-tests.sh while none of our modules
# is loaded. Proves with Debian's real systemd-udevd and only our rule file
# (udev/60-dmabuf-core.rules, packed by initramfs.sh) that /dev/dmabuf and the
# demo nodes come up root:video 0660: a member of video can open them and
# allocate, and anyone else gets EACCES (tests/t_perm.c).
# It loads and unloads the modules itself, and it stops udevd, so it leaves
# the guest as it found it. One PASS:/FAIL: line per check.
M=/modules
T=/tests
UDEVD=/lib/systemd/systemd-udevd
NODES="/dev/dmabuf /dev/dmabuf-contig /dev/dmabuf-demo-exporter /dev/dmabuf-demo-importer0 /dev/dmabuf-demo-importer1"

CHECK_WHO=udev
. /checks.sh

# Pids of udevd and its workers: processes running the udevadm binary.
udev_pids() {
	ls -l /proc/[0-9]*/exe 2>/dev/null |
		sed -n 's|.* /proc/\([0-9]*\)/exe -> /bin/udevadm$|\1|p' | tr '\n' ' '
}

for m in dmabuf_demo_importer dmabuf_demo_exporter dmabuf_core; do
	if loaded $m; then
		fail "precondition: $m is already loaded (run-udev.sh needs fresh loads)"
		exit 0
	fi
done
if [ -n "$(udev_pids)" ]; then
	fail "precondition: a udevd is already running (pids $(udev_pids))"
	exit 0
fi

# Control: without udev, devtmpfs creates the node root:root 0600.
insmod $M/dmabuf_core.ko
if [ "$(stat -c '%u:%g %a' /dev/dmabuf 2>&1)" = "0:0 600" ]; then
	pass "without udevd /dev/dmabuf is root:root 0600, the devtmpfs default"
else
	fail "without udevd /dev/dmabuf is root:root 0600, the devtmpfs default: $(stat -c '%u:%g %a' /dev/dmabuf 2>&1), expected 0:0 600"
fi
rmmod dmabuf_core

# Our rule alone decides: no other rule file anywhere udevd looks.
rules=$(find /etc/udev /run/udev /usr/local/lib/udev /usr/lib/udev /lib/udev \
	-name '*.rules' 2>/dev/null | sort -u)
if [ "$rules" = /usr/lib/udev/rules.d/60-dmabuf-core.rules ]; then
	pass "our rule is the only udev rule file: $rules"
else
	fail "our rule is the only udev rule file: '$(echo "$rules" | tr '\n' ' ')', expected only /usr/lib/udev/rules.d/60-dmabuf-core.rules"
fi

# --daemon returns once udevd listens for uevents: none of the loads below
# is missed.
ver=$($UDEVD --version 2>&1 | head -n 1)
echo "udev: $ver"
check "systemd-udevd --daemon starts" $UDEVD --daemon
check "udevd answers udevadm control --ping" udevadm control --ping --timeout=10

# The constraints file the rule loads when dmabuf_core comes up, with
# dmabuf-ctl where the package installs it.
mkdir -p /usr/bin /etc/dmabuf-core
cp $T/dmabuf-ctl /usr/bin/dmabuf-ctl
echo "dmabuf-demo-importer.1 segments=1 align=64k  # a board's device" \
	>/etc/dmabuf-core/constraints
check "insmod dmabuf_core" insmod $M/dmabuf_core.ko
check "insmod dmabuf_demo_exporter" insmod $M/dmabuf_demo_exporter.ko
check "insmod dmabuf_demo_importer dma_bits=64,32" \
	insmod $M/dmabuf_demo_importer.ko dma_bits=64,32
check "udevadm settle" udevadm settle --timeout=30
# udevd records every device it has handled in /run/udev/data/c<maj>:<min>.
for n in $NODES; do
	db=/run/udev/data/c$(cat "/sys/class/misc/${n#/dev/}/dev" 2>/dev/null)
	check "udevd handled the add event of $n" test -e "$db"
done

got=$($T/dmabuf-ctl constrain dmabuf-demo-importer.1 2>&1)
if [ "$got" = "dmabuf-demo-importer.1: segments=1 align=65536" ]; then
	pass "the rule loads /etc/dmabuf-core/constraints when dmabuf_core comes up"
else
	fail "the rule loads /etc/dmabuf-core/constraints when dmabuf_core comes up: '$got'"
fi
rm -rf /usr/bin/dmabuf-ctl /etc/dmabuf-core

# The heap entry: a link to /dev/dmabuf, beside any kernel heap.
if [ "$(readlink /dev/dma_heap/dmabuf-core 2>&1)" = "../dmabuf" ]; then
	pass "udev links /dev/dma_heap/dmabuf-core to /dev/dmabuf: entries $(ls /dev/dma_heap | tr '\n' ' ')"
else
	fail "udev links /dev/dma_heap/dmabuf-core to /dev/dmabuf: $(readlink /dev/dma_heap/dmabuf-core 2>&1), expected ../dmabuf"
fi
check "the heap entry allocates (O_RDONLY open, as heap users do)" \
	$T/t_alloc --heap-entry /dev/dma_heap/dmabuf-core
if [ "$(readlink /dev/dma_heap/dmabuf-core-contig 2>&1)" = "../dmabuf-contig" ]; then
	pass "udev links /dev/dma_heap/dmabuf-core-contig to /dev/dmabuf-contig"
else
	fail "udev links /dev/dma_heap/dmabuf-core-contig to /dev/dmabuf-contig: $(readlink /dev/dma_heap/dmabuf-core-contig 2>&1), expected ../dmabuf-contig"
fi

# The kernel's own dmabuf-heaps kselftest, unmodified, over every entry of
# /dev/dma_heap (ours, and the kernel's system heap where it has one), with
# vgem loaded so that its PRIME import test runs instead of skipping.
if [ -x $T/k_dmabuf-heap ]; then
	load_vgem "load the stock vgem driver for the kselftest"
	# With DMA-API debugging on (the debug kernel), the kernel's own system
	# heap fails the kselftest's vgem import: it maps 1 MiB segments for
	# vgem, whose maximum is 64 KiB (a mainline bug). There the test runs
	# on a /dev/dma_heap holding only our entry.
	own_view=
	if [ -d /sys/kernel/debug/dma-api ] && [ -e /dev/dma_heap/system ]; then
		own_view=1
		mount -t tmpfs -o mode=755 heaps /dev/dma_heap
		ln -s ../dmabuf /dev/dma_heap/dmabuf-core
		echo "udev: kselftest on our heap only (DMA-API debugging on)"
	fi
	$T/k_dmabuf-heap >/tmp/kselftest.out 2>&1
	rc=$?
	[ -n "$own_view" ] && umount /dev/dma_heap
	sed 's/^/  kselftest: /' /tmp/kselftest.out
	totals=$(grep '^# Totals:' /tmp/kselftest.out)
	if [ $rc = 0 ] && grep -q 'Testing heap: dmabuf-core' /tmp/kselftest.out &&
	   echo "$totals" | grep -q ' fail:0 ' && echo "$totals" | grep -q ' skip:0 ' &&
	   ! grep -q '^not ok' /tmp/kselftest.out; then
		pass "upstream dmabuf-heaps kselftest on /dev/dma_heap, vgem import included: ${totals#\# }"
	else
		fail "upstream dmabuf-heaps kselftest on /dev/dma_heap, vgem import included: exit $rc, ${totals:-no totals}"
	fi
	check "rmmod vgem" rmmod vgem
else
	fail "upstream dmabuf-heaps kselftest on /dev/dma_heap, vgem import included: no $T/k_dmabuf-heap in the initramfs"
fi

# stat modes, then uid 1000 with group video opens and allocates, uid 1000
# without it and uid 1001 get EACCES.
run_prog t_perm $NODES

check "rmmod dmabuf_demo_importer" rmmod dmabuf_demo_importer
check "rmmod dmabuf_demo_exporter" rmmod dmabuf_demo_exporter
check "rmmod dmabuf_core" rmmod dmabuf_core
check "udevadm settle after unload" udevadm settle --timeout=30
check "the heap entry goes with the node" test ! -e /dev/dma_heap/dmabuf-core
check "the contiguous heap entry goes with its node" test ! -e /dev/dma_heap/dmabuf-core-contig

# Stop udevd (and its workers) so the guest runs on as it did before.
# --exit returns when udevd has exited.
udevadm control --exit --timeout=10 >/dev/null 2>&1
# Its workers may take a moment longer (seconds, on the debug kernel; more
# than 40 once on 6.12-arm64 with three guests on two host cores).
left=$(udev_pids)
for i in $(seq 90); do
	[ -z "$left" ] && break
	sleep 1
	left=$(udev_pids)
done
if [ -z "$left" ]; then
	pass "udevd stopped by udevadm control --exit"
else
	fail "udevd stopped by udevadm control --exit: still running, pids $left (killed)"
	kill -9 $left 2>/dev/null
fi
for m in dmabuf_core dmabuf_demo_exporter dmabuf_demo_importer; do
	loaded $m && fail "$m still loaded"
done
exit 0
