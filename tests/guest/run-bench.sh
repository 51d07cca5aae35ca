#!/bin/sh
# Runs inside the guest for `make bench` (boot.sh, mode bench): loads the
# modules (the demo importer's device 0 at 64 bits, for b_map's sg counts)
# and runs the benchmarks, whose BENCH lines go to the results port for
# tests/harness/bench.sh to tabulate. dmabuf_harness.bench_reps (percent of
# the default repetitions, default 100) shortens a run. Figures never fail
# a run; a benchmark that cannot run its operations does. Every check name
# is in tests/guest/expected-bench.txt.
M=/modules

CHECK_WHO=bench
. /checks.sh

# bench_prog PROG [ARGS...]: run /tests/PROG, show its output, and check
# that it finished ("# PROG: done" and exit 0).
bench_prog() {
	prog=$1
	shift
	out=/tmp/$prog.out
	"/tests/$prog" "$@" >$out 2>&1
	st=$?
	cat $out
	if [ $st -eq 0 ] && grep -q "^# $prog: done\$" $out; then
		pass "$prog ran to completion"
	else
		fail "$prog ran to completion: exit $st"
	fi
}

echo "bench: kernel $(uname -r)"
reps=$(harness_arg bench_reps 100)
check "insmod dmabuf_core" insmod $M/dmabuf_core.ko
check "insmod the demo modules" sh -c \
	"insmod $M/dmabuf_demo_exporter.ko && insmod $M/dmabuf_demo_importer.ko dma_bits=64"
bench_prog b_alloc -r "$reps"
bench_prog b_map -r "$reps"
# The kernel's own importers: vgem (PRIME import) and vivid (V4L2 queue),
# loaded as run-tests.sh loads them.
load_vgem
load_vivid
bench_prog b_interop -r "$reps"
check "rmmod vgem and vivid" rmmod vgem vivid
# The kernel API per operation against the kernel's dma-buf, with one and
# with 100,000 more live buffers of each kind (dmabuf_bench.ko runs at load
# and logs its BENCH lines).
api_reps=$((2000 * reps / 100))
[ $api_reps -ge 20 ] || api_reps=20
for held in 0 100000; do
	dmesg -c >/dev/null
	if insmod $M/dmabuf_bench.ko live=$held reps=$api_reps; then
		dmesg | sed -n 's/^.*\] \(BENCH api .*\)$/\1/p'
		n=$(dmesg | grep -c 'BENCH api ')
		rmmod dmabuf_bench
		if [ "$n" -eq 18 ]; then
			pass "dmabuf_bench with $held more live buffers"
		else
			fail "dmabuf_bench with $held more live buffers: $n BENCH lines, not 18"
		fi
	else
		fail "dmabuf_bench with $held more live buffers: insmod failed"
	fi
done
check "rmmod the modules" rmmod dmabuf_demo_importer dmabuf_demo_exporter dmabuf_core
echo "DMABUF-TESTS-DONE $(harness_arg nonce none)"
