#!/usr/bin/env bash
# Tally one guest console log.
#
#   tests/harness/verdict.sh FAMILY [tests|demo]
#
# Reads build/logs/<name>.log (+ .status from boot.sh) and counts:
#   - each "PASS: ..." line as a pass, each "FAIL: ..." line as a failure;
#   - one failure if the DMABUF-TESTS-DONE marker is missing (guest crashed,
#     hung or timed out);
#   - one failure per console line showing a kernel problem (see
#     FORBIDDEN below), whatever the tests themselves printed.
# Only lines without a printk timestamp count as PASS/FAIL/marker lines.
# Prints "FAMILY: N passed, M failed" and then every failure line, and
# writes "N M" to build/logs/<name>.tally. Exits 0 (the caller decides).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

FAMILY=${1:-}
MODE=${2:-tests}
check_family "$FAMILY"

DONE_MARKER=DMABUF-TESTS-DONE
rc=0 secs='?' tmo='?'      # from boot.sh's .status file

# Kernel problem reports, as extended regexps (one per line).
FORBIDDEN='BUG:
WARNING:
Oops
KFENCE
refcount_t
kernel BUG at
general protection fault
invalid opcode
Kernel panic
UBSAN:
list_(add|del) corruption
[Ss]lab corruption
^BUG [^ ]+ \(
Redzone overwritten
Poison overwritten
Object padding overwritten
Padding overwritten
Freepointer corrupt
Object already free
Invalid object pointer
INFO: task .* blocked for more than
detected stalls? on CPU
hard LOCKUP'
# slub_debug reports look like
#   =============================================
#   BUG kmalloc-64 (Tainted: G  OE): Right Redzone overwritten
#   ---------------------------------------------
#   0xffff...-0xffff... @offset=56. First byte 0x78 instead of 0xcc
#   ...hex dumps labelled "Redzone"/"Padding"...
# and are counted once, by their "BUG <cache> (" header line.


# The log without CRs and terminal escapes (SeaBIOS clears the screen).
clean_log() {
    tr -d '\r' <"$1" | sed -E 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1b[c()][0-9A-Za-z]?//g; s/^\[[?]7l//'
}

# Print the failure lines of cleaned log $1, in console order; write the
# number of PASS lines to file $2. Only the guest's own lines (no printk
# timestamp) are verdicts: a module's pr_info("PASS: ...") that reaches the
# console is ignored here, run-tests.sh echoes those from dmesg itself.
scan_log() {
    awk -v passfile="$2" -v patfile=<(printf '%s\n' "$FORBIDDEN") '
        function problem(body, i) {
            for (i = 1; i <= n; i++)
                if (body ~ pat[i]) { print "FAIL: kernel: " $0; return }
        }
        BEGIN {
            n = 0
            while ((getline p < patfile) > 0) pat[++n] = p
            pass = 0
        }
        /^\[ *[0-9]+\.[0-9]+\] / {           # printk line
            body = $0
            sub(/^\[ *[0-9]+\.[0-9]+\] /, "", body)
            if (body !~ /^(PASS|FAIL): /) problem(body)
            next
        }
        /^PASS: / { pass++; next }
        /^FAIL: / { print; next }
        { problem($0) }
        END { print pass > passfile }
    ' "$1"
}

# One failure line when the guest did not get to the end: for the tests the
# DMABUF-TESTS-DONE marker, for the demo init's note that run-demo.sh exited
# (with status 0).
completion_check() {
    local why st
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        why="QEMU killed after ${tmo}s (guest hung)"
    else
        why="guest crashed or stopped early (QEMU exit $rc after ${secs}s)"
    fi
    if [ "$MODE" = demo ]; then
        st=$(sed -n 's|^harness: /run-demo.sh exited with status \([0-9]*\)$|\1|p' "$clean" | tail -n1)
        if [ -z "$st" ]; then
            echo "FAIL: run-demo.sh did not finish: $why"
        elif [ "$st" != 0 ]; then
            echo "FAIL: run-demo.sh exited with status $st"
        fi
    elif ! grep -qx "$DONE_MARKER" "$clean"; then
        echo "FAIL: $DONE_MARKER missing: $why"
    fi
}

main() {
    local name=$FAMILY log status pass fails kfails
    [ "$MODE" = tests ] || name=$FAMILY-$MODE
    log=$LOG_DIR/$name.log
    status=$LOG_DIR/$name.status
    [ -f "$log" ] || die "no console log $log"
    clean=$(mktemp)
    trap 'rm -f "$clean" "$clean.pass"' EXIT   # $clean is global for the trap
    clean_log "$log" >"$clean"
    if [ -f "$status" ]; then
        rc=$(sed -n 's/^rc=//p' "$status")
        secs=$(sed -n 's/^seconds=//p' "$status")
        tmo=$(sed -n 's/^timeout=//p' "$status")
    fi

    # Failure lines, in console order: the tests' FAIL lines and kernel
    # problem lines (not looked for in the tests' own PASS/FAIL lines).
    fails=$(
        {
            scan_log "$clean" "$clean.pass"
            completion_check
        }
    )
    pass=$(cat "$clean.pass")
    kfails=0
    [ -n "$fails" ] && kfails=$(printf '%s\n' "$fails" | wc -l)

    echo "$FAMILY: $pass passed, $kfails failed"
    if [ -n "$fails" ]; then
        printf '%s\n' "$fails" | sed 's/^/  /'
        echo "  (console log: $log)"
    fi
    echo "$pass $kfails" >"$LOG_DIR/$name.tally"
}

main
