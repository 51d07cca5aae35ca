#!/usr/bin/env bash
# Tally one guest run.
#
#   tests/harness/verdict.sh FAMILY [tests|nobounce|stress|demo|dkms|secureboot|iommu-*|bench]
#
# Every mode reads build/logs/NAME.results (the guest's own serial port),
# NAME.log (the kernel's console) and NAME.status (boot.sh), where NAME is
# FAMILY in tests mode and FAMILY-MODE otherwise, and counts:
#   - each "PASS: ..." line of the results as a pass, each "FAIL: ..." line
#     as a failure, each "SKIP: ..." line as a skip (never a pass): one
#     failure per skipped name the list does not allow to skip on FAMILY;
#   - one failure unless the results end with "DMABUF-TESTS-DONE <nonce>"
#     carrying this boot's nonce, and one unless the guest script exited 0;
#   - one failure when QEMU did not end by itself (killed by its timeout,
#     or failed), even after the done marker;
#   - one failure per expected test name (tests/guest/expected-names.txt,
#     for this family; expected-MODE.txt in the other modes) that the
#     results never mention, and one per PASS name that the list does not
#     have;
#   - one failure per console line showing a kernel problem (FORBIDDEN
#     below), and per warning of our own modules that no
#     "dmabuf-core-harness: expect warning: TEXT" line announced. Nothing
#     the guest's programs print reaches the console: their output is on
#     the results port.
# Prints "FAMILY: N passed, M failed, K skipped" and then every failure line, and
# writes "N M" to build/logs/<name>.tally (removed first, so that a verdict
# that died cannot leave an old one behind). Exits 0 (the caller decides).
# EXPECTED_NAMES points at another name list (harness self-tests).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

FAMILY=${1:-}
MODE=${2:-tests}
check_family "$FAMILY"

DONE_MARKER=DMABUF-TESTS-DONE
EXPECTED_NAMES=${EXPECTED_NAMES:-$REPO_ROOT/tests/guest/expected-names.txt}
# nobounce (a swiotlb=force boot running run-nobounce.sh), stress
# (run-stress.sh, `make check-stress`), the two iommu boots (run-iommu.sh),
# demo (run-demo.sh), dkms (run-dkms.sh) and secureboot (run-secureboot.sh)
# are judged like tests, each with a list of its own.
case "$MODE" in
    tests) ;;
    nobounce) EXPECTED_NAMES=${EXPECTED_NOBOUNCE:-$REPO_ROOT/tests/guest/expected-nobounce.txt} ;;
    stress) EXPECTED_NAMES=${EXPECTED_STRESS:-$REPO_ROOT/tests/guest/expected-stress.txt} ;;
    *) EXPECTED_NAMES=${EXPECTED_MODE_NAMES:-$REPO_ROOT/tests/guest/expected-$MODE.txt} ;;
esac
rc='' secs='?' tmo='?' nonce=''     # from boot.sh's .status file

# Kernel problem reports, as extended regexps (one per line), looked for in
# every console line.
FORBIDDEN='BUG:
WARNING:
Oops
KFENCE
KASAN
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
hard LOCKUP
soft lockup
possible circular locking dependency
inconsistent lock state
DMA-API:
unreferenced object
suspected memory leak
invoked oom-killer
Out of memory
oom-kill:
segfault at
traps: .* trap
page allocation failure
swiotlb buffer is full
[Oo]ut of SW-IOMMU space
DMAR: \[(DMA|INTR)[ -]
DMAR: DRHD: handling fault
bad shim signature
Security Violation'
# slub_debug reports look like
#   =============================================
#   BUG kmalloc-64 (Tainted: G  OE): Right Redzone overwritten
#   ---------------------------------------------
#   0xffff...-0xffff... @offset=56. First byte 0x78 instead of 0xcc
#   ...hex dumps labelled "Redzone"/"Padding"...
# and are counted once, by their "BUG <cache> (" header line.

# Our modules print to the console (loglevel=5: warnings and worse) only
# when something is wrong; these lines are the exceptions.
OURS='dmabuf[-_](core|demo|selftest|test)'
OURS_FINE='loading out-of-tree module taints kernel|module verification failed'
EXPECT_TAG='dmabuf-core-harness: expect warning: '

# The log without CRs and terminal escapes (SeaBIOS clears the screen).
clean_log() {
    tr -d '\r' <"$1" | sed -E 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1b[c()][0-9A-Za-z]?//g; s/^\[[?]7l//'
}

# Print one "FAIL: kernel: ..." line per console line of cleaned log $1 that
# reports a problem, in console order.
scan_console() {
    awk -v ours="$OURS" -v fine="$OURS_FINE" -v tag="$EXPECT_TAG" \
        -v patfile=<(printf '%s\n' "$FORBIDDEN") '
        BEGIN {
            n = 0
            while ((getline p < patfile) > 0) pat[++n] = p
            nexp = 0
        }
        {
            body = $0
            sub(/^\[ *[0-9]+\.[0-9]+\] /, "", body)
            if ((i = index(body, tag)) > 0) {
                expect[++nexp] = substr(body, i + length(tag))
                next
            }
            for (i = 1; i <= n; i++)
                if (body ~ pat[i]) { print "FAIL: kernel: " $0; next }
            # (Trace lines of an oops naming our module: the first line
            # of the report has counted already.)
            if (body ~ ours && body !~ fine && body !~ /^ |Modules linked in:|RIP: /) {
                for (i = 1; i <= nexp; i++)
                    if (expect[i] != "" && index(body, expect[i]) > 0) {
                        expect[i] = ""
                        next
                    }
                print "FAIL: kernel: unexpected warning of ours: " $0
            }
        }
        END {
            for (i = 1; i <= nexp; i++)
                if (expect[i] != "")
                    print "FAIL: kernel: announced warning never came: " expect[i]
        }
    ' "$1"
}

# The test name of a PASS:/FAIL: line: "<who>: <group>", its first two
# fields; what follows another ": " is a note or the failure's detail.
names_of() {   # names_of PASS|FAIL FILE
    sed -n "s/^$1: //p" "$2" | awk -F': ' '{ print $1 ": " $2 }' | LC_ALL=C sort -u
}

# The names expected of this family: every line of the list, where a
# leading "[fam ...]" keeps a line to those families and "[!fam ...]" drops
# it for them; a selector word may also be an architecture (amd64, arm64):
# every family of it.
expected_names() {
    awk -v fam="$FAMILY" -v arch="$(family_arch "$FAMILY")" '
        /^[[:space:]]*(#|$)/ { next }
        {
            line = $0
            if (line ~ /^\[skip-on /) {
                sub(/^\[[^]]*\] */, "", line)
            } else if (line ~ /^\[/) {
                sel = substr(line, 2, index(line, "]") - 2)
                line = substr(line, index(line, "]") + 1)
                sub(/^ +/, "", line)
                neg = sub(/^!/, "", sel)
                hit = 0
                nf = split(sel, f, / +/)
                for (i = 1; i <= nf; i++) if (f[i] == fam || f[i] == arch) hit = 1
                if (neg == hit) next
            }
            print line
        }
    ' "$EXPECTED_NAMES" | LC_ALL=C sort -u
}

# The names this family may report as SKIP: "[skip-on fam ...]" lines.
skippable_names() {
    awk -v fam="$FAMILY" -v arch="$(family_arch "$FAMILY")" '
        /^\[skip-on / {
            sel = substr($0, 10, index($0, "]") - 10)
            line = substr($0, index($0, "]") + 1)
            sub(/^ +/, "", line)
            nf = split(sel, f, / +/)
            for (i = 1; i <= nf; i++) if (f[i] == fam || f[i] == arch) { print line; break }
        }
    ' "$EXPECTED_NAMES" | LC_ALL=C sort -u
}

# Failures of the name check: expected names absent from the results, PASS
# names the list does not have, and SKIP names it does not let skip here
# (a SKIP is never a pass: it counts as reported only). A listed name ending in "*" is a
# prefix: at least one reported name must start with it, and PASS names
# that do are known.
name_check() {
    local exp pass_names all_names
    [ -r "$EXPECTED_NAMES" ] || { echo "FAIL: no expected-name list $EXPECTED_NAMES"; return 0; }
    exp=$(mktemp)
    expected_names >"$exp"
    pass_names=$(names_of PASS "$results")
    all_names=$( { names_of PASS "$results"; names_of FAIL "$results"
                   names_of SKIP "$results"; } | LC_ALL=C sort -u)
    awk -v all="$all_names" -v pass="$pass_names" '
        function known(n,   i) {
            if (n in exact) return 1
            for (i = 1; i <= np; i++)
                if (index(n, prefix[i]) == 1) return 1
            return 0
        }
        /\*$/ { prefix[++np] = substr($0, 1, length($0) - 1); next }
        { exact[$0] = 1 }
        END {
            na = split(all, a, "\n")
            for (i = 1; i <= na; i++) if (a[i] != "") seen[a[i]] = 1
            for (n in exact)
                if (!(n in seen)) miss[n] = 1
            for (i = 1; i <= np; i++) {
                hit = 0
                for (n in seen) if (index(n, prefix[i]) == 1) hit = 1
                if (!hit) miss[prefix[i] "*"] = 1
            }
            for (n in miss) print "FAIL: expected test never reported: " n | "LC_ALL=C sort"
            close("LC_ALL=C sort")
            npass = split(pass, p, "\n")
            for (i = 1; i <= npass; i++)
                if (p[i] != "" && !known(p[i]))
                    print "FAIL: test not in the expected list: " p[i]
        }
    ' "$exp"
    LC_ALL=C comm -23 <(names_of SKIP "$results") <(skippable_names) |
        sed "s/^/FAIL: skipped where it must run ($FAMILY): /"
    rm -f "$exp"
}

why_stopped() {
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        echo "QEMU killed after ${tmo}s (guest hung)"
    else
        echo "guest crashed or stopped early (QEMU exit $rc after ${secs}s)"
    fi
}

# The guest script's exit status, from init's note ($1: script, $2: log).
script_status() {
    sed -n "s|^harness: /$1 exited with status \([0-9]*\)\$|\1|p" "$2" | tail -n1
}

tests_verdict() {
    local st last script=run-${MODE%%-*}.sh
    sed -n 's/^FAIL: /&/p' "$results"
    st=$(script_status "$script" "$results")
    last=$(grep -E "^$DONE_MARKER( |\$)" "$results" | tail -n1 || true)
    if [ -n "$rc" ] && [ "$rc" != 0 ]; then
        echo "FAIL: QEMU did not end by itself: $(why_stopped)"
    fi
    if [ -z "$last" ]; then
        echo "FAIL: $DONE_MARKER missing: $(why_stopped)"
    elif [ "$last" != "$DONE_MARKER $nonce" ]; then
        echo "FAIL: done marker '$last' does not carry this boot's nonce $nonce"
    fi
    if [ -z "$st" ]; then
        echo "FAIL: $script did not finish: $(why_stopped)"
    elif [ "$st" != 0 ]; then
        echo "FAIL: $script exited with status $st"
    fi
    name_check
    scan_console "$console"
}

main() {
    local name=$FAMILY log status pass fails nfail skip=0
    [ "$MODE" = tests ] || name=$FAMILY-$MODE
    log=$LOG_DIR/$name.log
    status=$LOG_DIR/$name.status
    rm -f "$LOG_DIR/$name.tally"
    [ -f "$log" ] || die "no console log $log"
    console=$(mktemp)
    results=$(mktemp)
    trap 'rm -f "$console" "$results"' EXIT   # globals, for the trap
    clean_log "$log" >"$console"
    if [ -f "$LOG_DIR/$name.results" ]; then
        clean_log "$LOG_DIR/$name.results" >"$results"
    fi
    if [ -f "$status" ]; then
        rc=$(sed -n 's/^rc=//p' "$status")
        secs=$(sed -n 's/^seconds=//p' "$status")
        tmo=$(sed -n 's/^timeout=//p' "$status")
        nonce=$(sed -n 's/^nonce=//p' "$status")
    fi

    fails=$(tests_verdict)
    pass=$(grep -c '^PASS: ' "$results" || true)
    skip=$(grep -c '^SKIP: ' "$results" || true)
    nfail=0
    [ -n "$fails" ] && nfail=$(printf '%s\n' "$fails" | wc -l)

    echo "$FAMILY: $pass passed, $nfail failed, $skip skipped"
    if [ -n "$fails" ]; then
        printf '%s\n' "$fails" | sed 's/^/  /'
        echo "  (console log: $log)"
        [ -f "$LOG_DIR/$name.results" ] && echo "  (test output: $LOG_DIR/$name.results)"
    fi
    echo "$pass $nfail" >"$LOG_DIR/$name.tally"
}

main; exit
