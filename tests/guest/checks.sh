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
