#!/bin/sh
# Runs inside the guest for `make bench` (boot.sh, mode bench): loads the
# modules (the demo importer's device 0 at 64 bits, for b_map's sg counts,
# and device 1 at 32, for b_move)
# and runs the benchmarks, whose BENCH lines go to the results port for
# tests/harness/bench.sh to tabulate. dmabuf_harness.bench_reps (percent of
# the default repetitions, default 100) shortens a run. Figures never fail
# a run; a benchmark that cannot run its operations does. Every check name
# is in tests/guest/expected-bench.txt.
# dmabuf_harness.bench_parts (a comma-separated subset of alloc, map,
# interop, api, move; default all) runs only those benchmarks (bench.sh's
# BENCH_PARTS). dmabuf_harness.bench_profile=1 adds, after the kernel-API
# bench, a function_graph trace of one short dmabuf_bench run (tracefs) on
# the results port, as lines starting "PROFILE ", limited to
# dmabuf_harness.bench_graph_depth levels (default 3): where each call's
# time goes, ours beside the kernel's (bench.sh's BENCH_PROFILE); before
# it, untraced, the pieces of the calls (dmabuf_bench prims=1).
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

# part NAME: whether this run includes benchmark NAME.
part() {
	case ",$parts," in
	*,"$1",*) return 0 ;;
	esac
	return 1
}

# The kernel-API calls of both implementations, with their callees to
# $1 levels, for 20 repetitions of dmabuf_bench (tracefs function_graph).
api_profile() {
	t=/sys/kernel/tracing
	[ -d $t/events ] || mount -t tracefs nodev $t || return 0
	echo 0 >$t/tracing_on
	echo function_graph >$t/current_tracer || return 0
	echo "$1" >$t/max_graph_depth
	echo 16384 >$t/buffer_size_kb
	echo funcgraph-proc >$t/trace_options 2>/dev/null
	for f in dmabuf_core_export_from dmabuf_core_fd dmabuf_core_get \
		dmabuf_core_attach dmabuf_core_map_attachment \
		dmabuf_core_unmap_attachment dmabuf_core_detach dmabuf_core_put \
		dma_buf_export dma_buf_fd dma_buf_get dma_buf_attach \
		dma_buf_map_attachment_unlocked dma_buf_unmap_attachment_unlocked \
		dma_buf_detach dma_buf_put; do
		echo $f >>$t/set_graph_function
	done
	echo >$t/trace
	echo 1 >$t/tracing_on
	insmod $M/dmabuf_bench.ko live=0 reps=20 && rmmod dmabuf_bench
	echo 0 >$t/tracing_on
	sed 's/^/PROFILE /' $t/trace
	echo nop >$t/current_tracer
	echo >$t/set_graph_function
}

echo "bench: kernel $(uname -r)"
reps=$(harness_arg bench_reps 100)
parts=$(harness_arg bench_parts alloc,map,interop,api,move)
# Contiguous runs beyond the largest block too, where the kernel gives
# them (b_alloc's contig-touch rows stop at the first ENOMEM).
check "insmod dmabuf_core" insmod $M/dmabuf_core.ko large_runs_mb=512
check "insmod the demo modules" sh -c \
	"insmod $M/dmabuf_demo_exporter.ko && insmod $M/dmabuf_demo_importer.ko dma_bits=64,32"
part alloc && bench_prog b_alloc -r "$reps"
part map && bench_prog b_map -r "$reps"
# Moves: the 32-bit importer's attach moves a buffer above 4 GiB below.
part move && bench_prog b_move -r "$reps"
# The kernel's own importers: vgem (PRIME import) and vivid (V4L2 queue),
# loaded as run-tests.sh loads them.
if part interop; then
	load_vgem
	load_vivid
	bench_prog b_interop -r "$reps"
	check "rmmod vgem and vivid" rmmod vgem vivid
fi
# The kernel API per operation against the kernel's dma-buf, with one and
# with 100,000 more live buffers of each kind (dmabuf_bench.ko runs at load
# and logs its BENCH lines).
api_reps=$((2000 * reps / 100))
[ $api_reps -ge 20 ] || api_reps=20
helds="0 100000"
part api || helds=
for held in $helds; do
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
# With the profile: the pieces of the calls, timed alone (untraced), then
# the calls traced.
if [ "$(harness_arg bench_profile 0)" = 1 ] && part api; then
	dmesg -c >/dev/null
	if insmod $M/dmabuf_bench.ko prims=1 reps=$api_reps; then
		rmmod dmabuf_bench
		dmesg | sed -n 's/^.*\] \(BENCH prim .*\)$/\1/p'
	else
		fail "dmabuf_bench prims=1: insmod failed"
	fi
	api_profile "$(harness_arg bench_graph_depth 3)"
fi
check "rmmod the modules" rmmod dmabuf_demo_importer dmabuf_demo_exporter dmabuf_core
echo "DMABUF-TESTS-DONE $(harness_arg nonce none)"
