#!/bin/sh
# Sourced by the guest scripts: one "PASS: <who>: ..." or "FAIL: <who>: ..."
# line per check, which the harness counts. Set CHECK_WHO first.

pass() { echo "PASS: $CHECK_WHO: $*"; }
fail() { echo "FAIL: $CHECK_WHO: $*"; }

# check NAME COMMAND...: PASS when the command succeeds, else FAIL with
# what it printed.
check() {
	name=$1
	shift
	if out=$("$@" 2>&1); then
		pass "$name"
	else
		fail "$name: $* -> $out"
	fi
}

# loaded MODULE: the module is in /proc/modules.
loaded() { grep -q "^$1 " /proc/modules; }

# A stock peer driver of the kernel under test, with its dependencies:
# load_stock PEER [PARAM=VALUE...] (the parameters are the peer's own).
load_stock() {
	local peer=$1 m ok=1 args
	shift
	for m in $(cat /stock/$peer.order 2>/dev/null); do
		args=
		[ "${m%.ko}" = "$peer" ] && args="$*"
		# shellcheck disable=SC2086
		insmod /stock/$m $args 2>/dev/null || loaded "$(echo ${m%.ko} | tr - _)" || ok=0
	done
	[ -s /stock/$peer.order ] && [ $ok = 1 ]
}

# load_vgem [CHECK-NAME]: load the stock vgem driver (a check) and wait up
# to 2 s for its card node.
load_vgem() {
	check "${1:-load the stock vgem driver}" load_stock vgem
	for i in 1 2 3 4 5 6 7 8 9 10; do
		[ -c /dev/dri/card0 ] && break
		sleep 0.2
	done
}

# load_vivid [CHECK-NAME [PARAM=VALUE...]]: load the stock vivid driver (a
# check) with one capture node, one webcam input and vmalloc buffers (its
# default; allocators=1 gives videobuf2-dma-contig), and any more
# parameters; wait up to 2 s for the node.
load_vivid() {
	local name=${1:-load the stock vivid driver}
	[ $# -gt 0 ] && shift
	check "$name" load_stock vivid n_devs=1 node_types=0x1 num_inputs=1 \
		input_types=0x0 num_outputs=0 "$@"
	for i in 1 2 3 4 5 6 7 8 9 10; do
		grep -qs vivid-000-vid-cap /sys/class/video4linux/*/name && break
		sleep 0.2
	done
}

# A harness setting from the kernel command line: harness_arg NAME DEFAULT
# (dmabuf_harness.NAME=VALUE, put there by tests/harness/boot.sh).
harness_arg() {
	v=$(tr ' ' '\n' </proc/cmdline | sed -n "s/^dmabuf_harness\.$1=//p" | tail -n 1)
	echo "${v:-$2}"
}

# run_watched PROG [ARGS...]: run test program /tests/PROG under a watchdog,
# its output in $out; sets $st (exit status), $how (how it ended) and $secs.
# On a hang (dmabuf_harness.prog_timeout seconds, default 300) the kernel's
# task dump (sysrq t and w) goes to the console before the program is
# killed. Returns 1 (after a failed "PROG ran to completion") when the
# program is missing.
run_watched() {
	prog=$1
	shift
	if [ ! -x "/tests/$prog" ]; then
		fail "$prog ran to completion: /tests/$prog is missing"
		return 1
	fi
	tmo=$(harness_arg prog_timeout 300)
	out=/tmp/run_prog.$prog.out
	rm -f /tmp/run_prog.timeout
	t0=$(cut -d. -f1 /proc/uptime)
	"/tests/$prog" "$@" >"$out" 2>&1 </dev/null &
	pid=$!
	(
		i=0
		while [ $i -lt "$tmo" ]; do
			sleep 1
			kill -0 $pid 2>/dev/null || exit 0
			i=$((i + 1))
		done
		touch /tmp/run_prog.timeout
		echo "harness: $prog still running after ${tmo}s: task dump on the console"
		# The dumps are KERN_INFO: let them through to the console.
		lvl=$(cut -f1 /proc/sys/kernel/printk)
		echo 8 >/proc/sys/kernel/printk
		echo w >/proc/sysrq-trigger
		echo t >/proc/sysrq-trigger
		echo "$lvl" >/proc/sys/kernel/printk
		kill -9 $pid
	) &
	dog=$!
	wait $pid
	st=$?
	wait $dog
	secs=$(($(cut -d. -f1 /proc/uptime) - t0))
	how="exit $st"
	[ $st -gt 128 ] && how="killed by signal $((st - 128))"
	[ -e /tmp/run_prog.timeout ] && how="hung: killed after ${tmo}s"
	return 0
}

# run_prog PROG [ARGS...]: run_watched, then check how it ended. One more
# check line, "PROG ran to completion", passes only when the program exited
# 0 after a closing "# PROG: N passed, M failed, K skipped" line that
# agrees with the PASS:/FAIL:/SKIP: lines it printed. A missing program, a
# crash (signal), a non-zero exit or a hang fails it.
run_prog() {
	run_watched "$@" || return 0
	cat "$out"
	npass=$(grep -c "^PASS: $prog: " "$out")
	nfail=$(grep -c "^FAIL: $prog: " "$out")
	nskip=$(grep -c "^SKIP: $prog: " "$out")
	closing=$(sed -n "s/^# $prog: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p" "$out" | tail -n 1)
	if [ -z "$closing" ]; then
		fail "$prog ran to completion: $how, no closing count line"
	elif [ "$closing" != "$npass $nfail $nskip" ]; then
		fail "$prog ran to completion: $how, closing count '$closing' but $npass PASS, $nfail FAIL and $nskip SKIP lines"
	elif [ $st -ne $((nfail > 0)) ]; then
		fail "$prog ran to completion: $how with $nfail failures"
	else
		pass "$prog ran to completion: exit $st, $npass passed, $nfail failed, $nskip skipped, ${secs}s"
	fi
	rm -f "$out"
}

# run_ktap PROG [ARGS...]: a program on the kernel's kselftest_harness.h.
# Its KTAP goes to the results as it is, and each test's result line
# becomes one of ours: "ok N NAME" a PASS, "ok N NAME # SKIP why" a SKIP,
# "not ok N NAME" a FAIL, each as "PROG: NAME". "PROG ran to completion"
# passes only when the plan's count, the result lines and the "# Totals:"
# line agree, and the exit status is 0 exactly when nothing failed.
run_ktap() {
	run_watched "$@" || return 0
	cat "$out"
	awk -v p="$prog" '
		/^ok [0-9]+ .* # SKIP/ { sub(/^ok [0-9]+ /, ""); sub(/ # SKIP */, ": "); print "SKIP: " p ": " $0; next }
		/^ok [0-9]+ / { sub(/^ok [0-9]+ /, ""); print "PASS: " p ": " $0; next }
		/^not ok [0-9]+ / { sub(/^not ok [0-9]+ /, ""); print "FAIL: " p ": " $0 }' "$out" >"$out.lines"
	cat "$out.lines"
	npass=$(grep -c "^PASS: " "$out.lines")
	nfail=$(grep -c "^FAIL: " "$out.lines")
	nskip=$(grep -c "^SKIP: " "$out.lines")
	plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$out" | head -n 1)
	totals=$(sed -n 's/^# Totals: pass:\([0-9]*\) fail:\([0-9]*\) .* skip:\([0-9]*\) .*/\1 \2 \3/p' "$out" | tail -n 1)
	if [ -z "$plan" ] || [ "$plan" -ne $((npass + nfail + nskip)) ]; then
		fail "$prog ran to completion: $how, plan '${plan:-none}' but $npass passed, $nfail failed, $nskip skipped"
	elif [ "$totals" != "$npass $nfail $nskip" ]; then
		fail "$prog ran to completion: $how, totals '${totals:-none}' but $npass passed, $nfail failed, $nskip skipped"
	elif [ $st -ne $((nfail > 0)) ]; then
		fail "$prog ran to completion: $how with $nfail failures"
	else
		pass "$prog ran to completion: exit $st, $npass passed, $nfail failed, $nskip skipped, ${secs}s"
	fi
	rm -f "$out" "$out.lines"
}

# run_packaged_demo: the packaged dmabuf-demo (the story of `make demo`,
# linked against Debian's libraries, as the DKMS guests carry it): its own
# PASS:/FAIL: lines, and a check that it exited 0.
run_packaged_demo() {
	/tests/dmabuf-demo >/tmp/demo.out 2>&1
	st=$?
	grep -E '^(PASS|FAIL):' /tmp/demo.out
	if [ $st -eq 0 ]; then
		pass "dmabuf-demo (packaged) ran to completion"
	else
		fail "dmabuf-demo (packaged) ran to completion: status $st"
	fi
}

# debug_checkers_check: on the debug kernel, whose checkers switch
# themselves off after a first report (or when out of room), quietly after
# that: pass only when DMA-API debugging, lockdep and kmemleak are still on.
debug_checkers_check() {
	d=/sys/kernel/debug/dma-api
	kml=/sys/kernel/debug/kmemleak
	[ -d $d ] || return 0
	locks=$(sed -n 's/^ *debug_locks: *//p' /proc/lockdep_stats 2>/dev/null)
	state="dma-api disabled=$(cat $d/disabled) errors=$(cat $d/error_count) free_entries=$(cat $d/num_free_entries), debug_locks=${locks:-?}, kmemleak $(test -e $kml && echo present || echo absent)"
	if [ "$(cat $d/disabled)" = N ] && [ "$(cat $d/error_count)" = 0 ] &&
	   [ "$locks" = 1 ] && [ -e $kml ] && echo scan >$kml 2>/dev/null; then
		pass "debug checkers still armed at the end: $state"
	else
		fail "debug checkers still armed at the end: $state"
	fi
}

# kmemleak_check [canary]: on a kernel with kmemleak (the debug kernel),
# scan twice and pass only when nothing is unreferenced; the report goes to
# the output. The file's contents are read: debugfs files report size 0
# (test -s is always false there), and kmemleak reports at KERN_INFO, below
# the console's level. With "canary", dmabuf_selftest's leak_canary was
# written: kmemleak must report that allocation (its hex dump is all c5),
# which is then not counted as a finding.
kmemleak_check() {
	kml=/sys/kernel/debug/kmemleak
	[ -e $kml ] || return 0
	if ! echo scan >$kml; then
		fail "no kmemleak reports: kmemleak does not scan (disabled after an error?)"
		return 0
	fi
	sleep 5
	echo scan >$kml
	cat $kml >/tmp/kmemleak.out
	# "CANARIES OTHERS": records start with "unreferenced object".
	counts=$(awk '
		function done() { if (c) canary++; else other++ }
		/^unreferenced object/ { if (n) done(); n = 1; c = 0 }
		/^ +c5 c5 c5 c5 c5 c5 c5 c5 c5 c5 c5 c5 c5 c5 c5 c5 / { c = 1 }
		END { if (n) done(); print canary + 0, other + 0 }
	' /tmp/kmemleak.out)
	canaries=${counts% *}
	others=${counts#* }
	if [ "$1" = canary ]; then
		if [ "$canaries" -gt 0 ]; then
			pass "kmemleak reports the leak planted on purpose"
		else
			fail "kmemleak reports the leak planted on purpose: not among its $others reports"
		fi
	fi
	if [ "$others" -gt 0 ]; then
		fail "no kmemleak reports: $others found"
		cat /tmp/kmemleak.out
	else
		pass "no kmemleak reports"
	fi
}
