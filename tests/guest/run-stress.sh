#!/bin/sh
# Runs inside the guest for `make check-stress` (boot.sh, mode stress): the
# long runs.  Loads the modules as run-tests.sh does, runs the fuzzer for
# dmabuf_harness.fuzz_ops operations (default 1000000; its seed from
# dmabuf_harness.fuzz_seed, else a random one that it prints) and the races
# 5 times longer than make check (dmabuf_harness.race_scale), unloads,
# checks for leaks, and ends with the same done marker as run-tests.sh.
# On the debug kernel, Debian's trinity then fuzzes our nodes for
# dmabuf_harness.trinity_ops syscalls.
# Every check name is in tests/guest/expected-stress.txt.
M=/modules

CHECK_WHO=stress
. /checks.sh

# trinity, Debian's syscall fuzzer, for dmabuf_harness.trinity_ops syscalls
# (default 10000; seed dmabuf_harness.trinity_seed, else a random one, printed)
# in two children. Its only fd provider is the file one ("pseudo"), and the
# only files it is given are copies of our four nodes (and their directory):
# it opens them with random flags and calls the syscalls that reach a driver
# on them. (Buffer fds have no path trinity could open: t_fuzz covers them.)
# Passes when trinity reports the five names added, exits 0 having run every
# syscall and never saw the kernel become tainted; the console verdict does
# the rest.
run_trinity() {
	n=$(harness_arg trinity_ops 10000)
	seed=$(harness_arg trinity_seed "$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')")
	v=/tmp/trinity-victims
	mkdir -p $v
	for node in dmabuf dmabuf-demo-exporter dmabuf-demo-importer0 dmabuf-demo-importer1; do
		if [ ! -c /dev/$node ]; then
			fail "trinity fuzzed our nodes: no /dev/$node"
			return 0
		fi
		# shellcheck disable=SC2046 # major and minor, in hex
		set -- $(stat -c '%t %T' /dev/$node)
		mknod $v/$node c $((0x$1)) $((0x$2))
	done
	out=/tmp/trinity.out
	echo "stress: trinity, $n syscalls, seed $seed"
	start=$(date +%s)
	(cd /tmp && timeout -s KILL "$(harness_arg trinity_timeout 1800)" /tests/trinity \
		--dangerous -q -l off -C 2 -N "$n" -s "$seed" -V $v --enable-fds=pseudo \
		-c ioctl -c mmap -c munmap -c mremap -c madvise -c mprotect -c msync \
		-c close -c read -c write -c lseek -c newfstat -c fcntl -c dup \
		-c dup2 -c dup3 -c poll) >$out 2>&1
	st=$?
	# timeout kills trinity's main process only: its children too.
	pkill -9 -x trinity 2>/dev/null
	secs=$(($(date +%s) - start))
	ran=$(sed -n 's/.*Ran \([0-9]*\) syscalls.*/\1/p' $out | tail -n 1)
	added=$(sed -n "s|.*Added \([0-9]*\) filenames from $v.*|\1|p" $out | tail -n 1)
	grep -E 'Added .* filenames|fd providers|Ran [0-9]+ syscalls' $out
	if [ $st -eq 0 ] && [ "${ran:-0}" -ge "$n" ] && [ "${added:-0}" -ge 5 ] &&
	   ! grep -q 'became tainted' $out; then
		pass "trinity fuzzed our nodes: $ran syscalls in ${secs}s, seed $seed"
	else
		fail "trinity fuzzed our nodes: exit $st, ${ran:-no} syscalls in ${secs}s, ${added:-no} files added, seed $seed"
		tail -n 20 $out
	fi
	rm -rf $v
}

echo "stress: kernel $(uname -r)"
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
kml=/sys/kernel/debug/kmemleak
[ -e $kml ] && echo clear >$kml
check "insmod dmabuf_core" insmod $M/dmabuf_core.ko
check "insmod dmabuf_demo_exporter" insmod $M/dmabuf_demo_exporter.ko
check "insmod dmabuf_demo_importer" \
	insmod $M/dmabuf_demo_importer.ko dma_bits=64,32 max_seg_kb=0,64
run_prog t_fuzz -n "$(harness_arg fuzz_ops 1000000)"
run_prog t_race -n "$(harness_arg race_scale 5)"
[ -x /tests/trinity ] && run_trinity
check "rmmod dmabuf_demo_importer" rmmod dmabuf_demo_importer
check "rmmod dmabuf_demo_exporter" rmmod dmabuf_demo_exporter
check "rmmod dmabuf_core" rmmod dmabuf_core
kmemleak_check
echo "DMABUF-TESTS-DONE $(harness_arg nonce none)"
