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
