#!/usr/bin/env bash
# `make check-harness`: proves that the verdict cannot miss a failure.
#
#   tests/harness/check-harness.sh            verdict cases, then the boots
#   HARNESS_BOOTS=0 tests/harness/check-harness.sh   verdict cases only
#   tests/harness/check-harness.sh warn hang          those injections only
#   tests/harness/check-harness.sh demo               the demo boots only
#
# 1. Verdict cases (seconds): verdict.sh on made-up logs of one family. A
#    clean run must pass; a wrong nonce, a missing or unknown test name, a
#    non-zero script exit, a missing done marker, an OOM kill, a user-space
#    segfault, a page allocation failure, swiotlb exhaustion, an
#    unannounced warning of ours (or an announced one that never came) must
#    each fail it with their own message.
# 2. apt sources: with the host's list cut down to `bookworm main`, 6.1 and
#    6.12 still resolve to the releases the full sources give.
# 3. Injections (on HARNESS_KERNEL, default 6.12): a scratch copy of the
#    tree gets the faults, and its own `make check` must fail with a FAIL
#    line matching each one's message. The faults that leave the guest
#    running share one boot (each is seen by its own check); warn, which
#    panics the guest, has a boot of its own, run beside the other:
#      crash   a test program dies of SIGSEGV before it prints anything
#      missing a test program is gone from the tree
#      warn    dmabuf_core's init WARNs (panic_on_warn)
#      hang    a test program never returns (PROG_TIMEOUT=90: above the
#              slowest program's time, t_fragment's ~35 s)
#      leak    /dev/dmabuf buffers of up to 1 MiB never free their pages
#      ktap    a test of a kselftest_harness.h program (t_contig) fails:
#              its "not ok" line must become a FAIL of that test
# 4. The demo (`make demo` of scratch copies, two boots side by side): the
#    unmodified demo passes; a demo whose program prints kernel-like lines
#    (WARNING:, BUG:, dmabuf-core:) while the demo exporter's init prints a
#    real warning of ours fails with that warning as its only failure.
# Prints one "PASS: harness: ..." / "FAIL: harness: ..." line per case and
# "N passed, M failed" last; exits non-zero on any failure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

HARNESS_KERNEL=${HARNESS_KERNEL:-6.12}
# The injected runs' per-program watchdog: the hang case waits this long.
INJECT_PROG_TIMEOUT=90
HARNESS_BOOTS=${HARNESS_BOOTS:-1}
WORK=$BUILD_DIR/check-harness
NPASS=0
NFAIL=0

ok()  { echo "PASS: harness: $*"; NPASS=$((NPASS + 1)); }
bad() { echo "FAIL: harness: $*"; NFAIL=$((NFAIL + 1)); }

# ---- 1. verdict cases --------------------------------------------------------

V=$WORK/verdict
NONCE=0123456789abcdef

# A clean made-up run: two checks, this boot's nonce, exit 0, a quiet console.
write_clean_run() {
    mkdir -p "$V/logs"
    printf 'guest: one\nguest: two\n[debug] guest: debug only\n' >"$V/names"
    cat >"$V/logs/6.12.results" <<EOF
harness: /run-tests.sh on 6.12.0 (KVER_FAMILY=6.12)
PASS: guest: one
PASS: guest: two: with a note
DMABUF-TESTS-DONE $NONCE
harness: /run-tests.sh exited with status 0
EOF
    cat >"$V/logs/6.12.log" <<'EOF'
[    0.000000] Linux version 6.12.0 (made up)
[    1.000000] dmabuf_core: loading out-of-tree module taints kernel.
EOF
    printf 'rc=0\nseconds=1\ntimeout=600\nnonce=%s\n' "$NONCE" >"$V/logs/6.12.status"
}

run_verdict() {   # prints verdict.sh's output (mode: $MODE_OF_CASE)
    BUILD_DIR=$V EXPECTED_NAMES=$V/names "$HARNESS_DIR/verdict.sh" 6.12 "${MODE_OF_CASE:-tests}"
}

# verdict_case NAME WANT-FAILED PATTERN EDIT...: make the clean run, apply the
# shell command EDIT, and require WANT-FAILED failures, one matching PATTERN.
verdict_case() {
    local name=$1 want=$2 pattern=$3 out got
    shift 3
    write_clean_run
    MODE_OF_CASE=tests
    eval "$*"
    out=$(run_verdict)
    got=$(t=$V/logs/6.12.tally; [ "$MODE_OF_CASE" = tests ] || t=$V/logs/6.12-$MODE_OF_CASE.tally
        read -r _ fail <"$t"; echo "$fail")
    if [ "$got" = "$want" ] && { [ -z "$pattern" ] || printf '%s\n' "$out" | grep -qE "$pattern"; }; then
        ok "verdict: $name"
    else
        bad "verdict: $name: want $want failures matching '$pattern', got $got:"
        printf '%s\n' "$out" | sed 's/^/    /'
    fi
}

append_console() { printf '%s\n' "$@" >>"$V/logs/6.12.log"; }

verdict_cases() {
    local R=\$V/logs/6.12.results
    verdict_case "a clean run passes" 0 ''
    verdict_case "a stale nonce fails" 1 "does not carry this boot's nonce" \
        "sed -i 's/^nonce=.*/nonce=fedcba9876543210/' \$V/logs/6.12.status"
    verdict_case "a missing done marker fails" 1 "DMABUF-TESTS-DONE missing" \
        "sed -i '/^DMABUF-TESTS-DONE/d' $R"
    verdict_case "no results at all fail" 4 "run-tests.sh did not finish" \
        "rm $R"
    verdict_case "a script exit status 1 fails" 1 "exited with status 1" \
        "sed -i 's/exited with status 0/exited with status 1/' $R"
    verdict_case "a missing test name fails" 1 "expected test never reported: guest: two" \
        "sed -i '/guest: two/d' $R"
    verdict_case "a stand-in's unknown PASS fails" 1 "not in the expected list: stub: stub" \
        "sed -i 's/^PASS: guest: one\$/&\nPASS: stub: stub/' $R"
    verdict_case "a FAIL line fails once" 1 "^  FAIL: guest: two: broke" \
        "sed -i 's/^PASS: guest: two.*/FAIL: guest: two: broke/' $R"
    verdict_case "an OOM kill fails" 1 "Out of memory" \
        "append_console '[    9.000000] Out of memory: Killed process 77 (t_alloc)'"
    verdict_case "a user-space segfault fails" 1 "segfault at" \
        "append_console '[    9.000000] t_alloc[77]: segfault at 0 ip 0000000000401000 sp 00007ffc error 6'"
    verdict_case "a page allocation failure fails" 1 "page allocation failure" \
        "append_console '[    9.000000] t_alloc: page allocation failure: order:10, mode:0x40dc0'"
    verdict_case "swiotlb exhaustion fails" 1 "swiotlb buffer is full" \
        "append_console '[    9.000000] virtio 0000:00:03.0: swiotlb buffer is full (sz: 4096 bytes)'"
    verdict_case "a lockdep report fails" 1 "circular locking" \
        "append_console '[    9.000000] WARNING: possible circular locking dependency detected'"
    verdict_case "an unannounced warning of ours fails" 1 "unexpected warning of ours" \
        "append_console '[    9.000000] platform x: dmabuf-core buffer 3 detached while mapped'"
    verdict_case "an announced warning of ours passes" 0 '' \
        "append_console '[    9.000000] dmabuf_selftest: dmabuf-core-harness: expect warning: detached while mapped' '[    9.100000] platform x: dmabuf-core buffer 3 detached while mapped'"
    verdict_case "an announced warning that never came fails" 1 "never came" \
        "append_console '[    9.000000] dmabuf_selftest: dmabuf-core-harness: expect warning: detached while mapped'"
    verdict_case "a family-only name is expected there only" 0 '' \
        "sed -i 's/debug only/never/' \$V/names"
    # A skip is never a pass, and satisfies the list only where it says so.
    verdict_case "a SKIP the list allows on this family passes" 0 '0 skipped|1 skipped' \
        "sed -i 's/^guest: two\$/[skip-on 6.1 6.12] &/' \$V/names; sed -i 's/^PASS: guest: two.*/SKIP: guest: two: no peer/' $R"
    verdict_case "a SKIP is not counted as a pass" 0 '^6.12: 1 passed, 0 failed, 1 skipped$' \
        "sed -i 's/^guest: two\$/[skip-on 6.12] &/' \$V/names; sed -i 's/^PASS: guest: two.*/SKIP: guest: two: no peer/' $R"
    verdict_case "a SKIP the list does not allow fails" 1 'skipped where it must run \(6.12\): guest: two' \
        "sed -i 's/^PASS: guest: two.*/SKIP: guest: two: no peer/' $R"
    verdict_case "a SKIP allowed on another family only fails" 1 'skipped where it must run' \
        "sed -i 's/^guest: two\$/[skip-on 6.1] &/' \$V/names; sed -i 's/^PASS: guest: two.*/SKIP: guest: two: no peer/' $R"
    # An architecture in a selector stands for its families (6.12 is amd64).
    verdict_case "a SKIP allowed on the family's architecture passes" 0 '^6.12: 1 passed, 0 failed, 1 skipped$' \
        "sed -i 's/^guest: two\$/[skip-on amd64] &/' \$V/names; sed -i 's/^PASS: guest: two.*/SKIP: guest: two: no peer/' $R"
    verdict_case "a SKIP allowed on the other architecture only fails" 1 'skipped where it must run' \
        "sed -i 's/^guest: two\$/[skip-on arm64] &/' \$V/names; sed -i 's/^PASS: guest: two.*/SKIP: guest: two: no peer/' $R"
    verdict_case "a name of the other architecture only is not expected" 0 '' \
        "echo '[arm64] guest: arm64 only' >>\$V/names"
    verdict_case "a name of this architecture is expected" 1 'expected test never reported: guest: amd64 only' \
        "echo '[amd64] guest: amd64 only' >>\$V/names"
    # The demo: its output on its own port, judged with expected-demo.txt.
    local d=\$V/logs/6.12-demo
    verdict_case "the demo's own run passes" 0 '' "demo_run"
    verdict_case "a demo printing lines that look like the kernel's passes" 0 '' \
        "demo_run '[    9.000000] WARNING: CPU: 0 PID: 1 at dmabuf_core (printed by the demo)' 'dmabuf-core: BUG: Oops (printed by the demo)'"
    verdict_case "a warning of ours during the demo fails" 1 "unexpected warning of ours: .*dmabuf_demo_exporter" \
        "demo_run; printf '%s\\n' '[    9.000000] dmabuf_demo_exporter: dmabuf-core buffer 1: a warning' >>$d.log"
    verdict_case "a demo that crashed fails" 2 "demo_share ran to completion: killed by signal 11" \
        "demo_run; sed -i '/^PASS: demo: both/d; s/^PASS: demo: demo_share ran.*/FAIL: demo: demo_share ran to completion: killed by signal 11/' $d.results"
    verdict_case "a demo whose QEMU was killed after the done marker fails" 1 "QEMU did not end by itself" \
        "demo_run; sed -i 's/^rc=.*/rc=124/' $d.status"
    # The DKMS guest: a listed prefix must be reported at least once.
    local k=\$V/logs/6.12-dkms
    verdict_case "the DKMS guest's own run passes" 0 '' "dkms_run"
    verdict_case "a DKMS guest without a prefix's names fails" 1 "never reported: t_alloc: \\*" \
        "dkms_run; sed -i '/^PASS: t_alloc: /d' $k.results"
    verdict_case "a DKMS guest that stopped early fails" 3 "run-dkms.sh did not finish" \
        "dkms_run; sed -i '/all modules unloaded/,\$d' $k.results"
    # The Secure Boot guest: shim or the firmware refusing an image fails.
    local b=\$V/logs/6.12-secureboot
    verdict_case "the Secure Boot guest's own run passes" 0 '' "dkms_run secureboot"
    verdict_case "a boot chain refusing an image fails" 1 "bad shim signature" \
        "dkms_run secureboot; printf '%s\\n' 'error: bad shim signature.' >>$b.log"
    verdict_case "a Secure Boot guest without a refusal check fails" 1 \
        "never reported: secureboot-guest: an unsigned build is refused" \
        "dkms_run secureboot; sed -i '/an unsigned build is refused/d' $b.results"
}

# A made-up demo run on the results port, as run-demo.sh prints it, with
# the demo's own heading (it names dmabuf-core) and the lines in "$@".
demo_run() {
    local r=$V/logs/6.12-demo.results l
    {
        echo "harness: /run-demo.sh on 6.12.0 (KVER_FAMILY=6.12)"
        echo "== dmabuf-core: one buffer, two devices, one process =="
        for l in "$@"; do echo "$l"; done
        sed -n 's/^\([a-z]\)/PASS: \1/p' "$REPO_ROOT/tests/guest/expected-demo.txt"
        echo "DMABUF-TESTS-DONE $NONCE"
        echo "harness: /run-demo.sh exited with status 0"
    } >"$r"
    cp "$V/logs/6.12.log" "$V/logs/6.12-demo.log"
    cp "$V/logs/6.12.status" "$V/logs/6.12-demo.status"
    MODE_OF_CASE=demo
}

# A made-up run of the DKMS guest (or, given, of another mode judged by its
# expected-MODE.txt): every listed name, a prefix by one group.
dkms_run() {
    local mode=${1:-dkms} r
    r=$V/logs/6.12-$mode.results
    {
        echo "harness: /run-$mode.sh on 6.12.0 (KVER_FAMILY=6.12)"
        sed -n '/^[a-z]/{s/\*$/some group: a note/;s/^/PASS: /;p}' \
            "$REPO_ROOT/tests/guest/expected-$mode.txt"
        echo "DMABUF-TESTS-DONE $NONCE"
        echo "harness: /run-$mode.sh exited with status 0"
    } >"$r"
    cp "$V/logs/6.12.log" "$V/logs/6.12-$mode.log"
    cp "$V/logs/6.12.status" "$V/logs/6.12-$mode.status"
    MODE_OF_CASE=$mode
}

# ---- 2. apt sources -----------------------------------------------------------

# As a new user's Debian 12 would have it after debootstrap: sources naming
# only `bookworm main` (APT_CONFIG points apt at such a list). 6.1 and 6.12
# must still resolve, to the releases the full sources give.
# The harness's scripts run for up to an hour; bash reads a script while it
# runs, so each must end with `main; exit` on one line (an edit made during
# a run would otherwise be read at the old offset once main returns: seen,
# a stress run failing with "unexpected EOF" after its guest had passed).
exit_after_main_case() {
    local f bad_ones=()
    for f in "$HARNESS_DIR"/*.sh; do
        [ "$(basename "$f")" = lib.sh ] && continue   # sourced, not run
        tail -n 1 "$f" | grep -qE '^[a-z_ -]*main( "\$@")?; exit$' || bad_ones+=("$(basename "$f")")
    done
    if [ ${#bad_ones[@]} -eq 0 ]; then
        ok "every harness script exits on the line that calls main"
    else
        bad "scripts that read on after main returns: ${bad_ones[*]}"
    fi
}

apt_sources_case() {
    local d=$WORK/apt fam want got
    rm -rf "$d"
    mkdir -p "$d/sources.list.d"
    echo "deb $DEBIAN_MIRROR bookworm main" >"$d/sources.list"
    printf 'Dir::Etc::SourceList "%s";\nDir::Etc::SourceParts "%s";\n' \
        "$d/sources.list" "$d/sources.list.d" >"$d/apt.conf"
    for fam in 6.1 6.12; do
        want=$(BUILD_DIR=$d/full "$HARNESS_DIR/kernels.sh" "$fam" >/dev/null 2>&1 &&
            BUILD_DIR=$d/full kernel_release "$fam") || want=
        got=$(APT_CONFIG=$d/apt.conf BUILD_DIR=$d/bare "$HARNESS_DIR/kernels.sh" "$fam" >"$d/$fam.out" 2>&1 &&
            BUILD_DIR=$d/bare kernel_release "$fam") || got=
        if [ -n "$want" ] && [ "$got" = "$want" ]; then
            ok "apt sources: $fam resolves to $got with only 'bookworm main' on the host"
        else
            bad "apt sources: $fam resolved to '${got:-nothing}' with only 'bookworm main', '${want:-nothing}' with the full sources ($d/$fam.out)"
        fi
    done
}

# ---- 3. injections -----------------------------------------------------------

# A scratch copy of the tracked tree (plus uncommitted edits) in $1.
scratch_copy() {
    local dst=$1
    rm -rf "$dst"
    mkdir -p "$dst"
    (cd "$REPO_ROOT" && git ls-files -z --cached --others --exclude-standard |
        xargs -0 cp --parents -t "$dst" 2>/dev/null) || true
    [ -f "$dst/tests/harness/check.sh" ] || die "scratch copy of the tree failed"
}

# The C text that a constructor in a test program runs before main().
inject_ctor() {   # inject_ctor FILE STATEMENT
    printf '\n#include <signal.h>\n#include <unistd.h>\n%s\n' \
        "static void __attribute__((constructor)) harness_inject(void) { $2; }" >>"$1"
}

inject() {   # inject CASE DIR: apply the fault, fail if it did not apply
    local case=$1 d=$2
    case "$case" in
        # (Not t_share: the leak case needs its own leak check to run.)
        crash) inject_ctor "$d/tests/t_trace.c" 'raise(SIGSEGV)' ;;
        missing) rm "$d/tests/t_bufops.c" ;;
        warn) sed -i '/^static int __init /{n;s/^{$/{\n\tWARN_ON(1);/}' "$d/src/core/main.c"
            grep -q 'WARN_ON(1);' "$d/src/core/main.c" ;;
        hang) inject_ctor "$d/tests/t_demo.c" 'for (;;) pause()' ;;
        # Buffers up to 1 MiB only: the storage they keep still counts
        # against max_total_mb, and leaking every size would reach that
        # cap before the check (the tests allocate gigabytes in all),
        # failing allocations everywhere, among them a kernel importer's
        # vmap of a deferred demo buffer, at which the kernel WARNs.
        leak) sed -i '/^void dcore_heap_buffer_free/,/^}/ s#^\tdmabuf_core_pages_free(&hb->pages);$#\tif (hb->contig || hb->pages.nr_pages > 256) /* injected leak */\n\t\tdmabuf_core_pages_free(\&hb->pages);#' \
                "$d/src/core/heap_storage.c"
            grep -q 'injected leak' "$d/src/core/heap_storage.c" ;;
        ktap) sed -i 's|EXPECT_EQ(-ENOMEM, contig_alloc(self->node, LARGEST_RUN + 4 \* KiB, 0));|EXPECT_EQ(0, contig_alloc(self->node, LARGEST_RUN + 4 * KiB, 0)); /* injected */|' \
                "$d/tests/t_contig.c"
            grep -q 'injected' "$d/tests/t_contig.c" ;;
    esac
}

# What the run's output must show for each case: one extended regexp a
# line, each on a FAIL line of its own.
expect_of() {
    case "$1" in
        crash) echo 't_trace ran to completion: killed by signal 11' ;;
        missing) echo 't_bufops ran to completion: /tests/t_bufops is missing' ;;
        warn) echo 'kernel: .*WARNING:' ;;
        hang) echo "t_demo ran to completion: hung: killed after ${INJECT_PROG_TIMEOUT}s" ;;
        # Both leak tolerances, the guest's and t_share's, trip.
        leak) echo 'memory back to baseline after unload: .*lost'
            echo 't_share: leak: .*MemFree before' ;;
        ktap) echo 't_contig: contig.larger_than_any_run' ;;
    esac
}

# The injections that stop the guest (panic_on_warn) need a boot of their own.
stops_guest() { [ "$1" = warn ]; }

# injection_boot NAME CASE...: a scratch copy in $WORK/NAME with every CASE's
# fault applied, and its `make check` run; the output goes to check.out, the
# exit status to check.rc.
injection_boot() {
    local name=$1 d=$WORK/$1 case rc=0
    shift
    scratch_copy "$d"
    for case in "$@"; do
        inject "$case" "$d" || { echo "the fault '$case' did not apply" >"$d/check.out"; echo 99 >"$d/check.rc"; return 0; }
    done
    (cd "$d" && env -u KERNELS -u BUILD_DIR -u SRC_DIR -u TESTS_BIN -u GUEST_DIR -u CHECK_JOBS \
        KERNELS="$HARNESS_KERNEL" PROG_TIMEOUT=$INJECT_PROG_TIMEOUT EXTRA_BOOTS=0 \
        tests/harness/check.sh) >"$d/check.out" 2>&1 </dev/null || rc=$?
    echo "$rc" >"$d/check.rc"
}

# injection_verdict NAME CASE...: each CASE's message on a FAIL line of the
# boot NAME's output, at least one failure per case, and a non-zero exit.
injection_verdict() {
    local name=$1 d=$WORK/$1 case want rc nfail
    shift
    rc=$(cat "$d/check.rc" 2>/dev/null || echo missing)
    nfail=$(tail -n 1 "$d/check.out" | sed -nE 's/^[0-9]+ passed, ([0-9]+) failed$/\1/p')
    for case in "$@"; do
        want=$(expect_of "$case")
        if [ "$rc" != 0 ] && [ "$rc" != 99 ] && [ "${nfail:-0}" -ge $# ] &&
            all_fail_lines "$d/check.out" "$want"; then
            ok "inject $case: make check fails: $(tail -n 1 "$d/check.out") (boot '$name': $*)"
        else
            bad "inject $case: make check exit $rc, wanted a FAIL line matching '$want' and $# failures or more (output: $d/check.out)"
            tail -n 15 "$d/check.out" | sed 's/^/    /'
        fi
    done
}

# Every regexp of the lines of $2 is on a FAIL line of file $1.
all_fail_lines() {
    local re
    while IFS= read -r re; do
        grep -qE "FAIL: .*$re" "$1" || return 1
    done <<<"$2"
}

# The injections: those that leave the guest running in one boot, each that
# stops it in a boot of its own; two boots at a time (a stock guest runs on
# one host thread).
injection_cases() {
    local case shared=() boots=() b n=0
    for case in "$@"; do
        if stops_guest "$case"; then boots+=("$case"); else shared+=("$case"); fi
    done
    [ ${#shared[@]} -eq 0 ] || boots=("$(IFS=-; echo "${shared[*]}")" "${boots[@]}")
    for b in "${boots[@]}"; do
        log "check-harness: injecting '${b//-/ }' into a scratch copy ($HARNESS_KERNEL), boot '$b'"
        if [ $n -ge 2 ]; then wait -n || true; n=$((n - 1)); fi
        # shellcheck disable=SC2086
        injection_boot "$b" ${b//-/ } &
        n=$((n + 1))
    done
    wait
    for b in "${boots[@]}"; do
        # shellcheck disable=SC2086
        injection_verdict "$b" ${b//-/ }
    done
}

# ---- 4. the demo ---------------------------------------------------------------

# `make demo` of a scratch copy in $WORK/demo-$1 on HARNESS_KERNEL, after
# the functions $2... edit it (each takes the copy's path); output in
# demo.out, exit status in demo.rc.
demo_boot() {
    local d=$WORK/demo-$1 edit rc=0
    shift
    scratch_copy "$d"
    for edit in "$@"; do
        "$edit" "$d" || { echo "the edit $edit did not apply" >"$d/demo.out"; echo 99 >"$d/demo.rc"; return 0; }
    done
    (cd "$d" && env -u BUILD_DIR -u SRC_DIR -u TESTS_BIN -u GUEST_DIR \
        DEMO_KERNEL="$HARNESS_KERNEL" tests/harness/demo.sh) >"$d/demo.out" 2>&1 </dev/null || rc=$?
    echo "$rc" >"$d/demo.rc"
}

# The demo's own program prints what looks like kernel problems, before
# its heading (which names dmabuf-core: already).
demo_prints_kernel_lines() {
    local f=$1/tests/demo_share.c
    awk '/== dmabuf-core: one buffer/ {
        print "\tprintf(\"[    1.000000] WARNING: CPU: 0 PID: 1 at dmabuf_core_export+0x1\\nBUG: kernel NULL pointer dereference (printed by the demo)\\n\");"
    } { print }' "$f" >"$f.new" && mv "$f.new" "$f" && grep -q 'printed by the demo' "$f"
}

# The demo exporter's init prints a real warning of ours (after its
# declarations: the first empty line).
demo_exporter_warns() {
    local f=$1/src/demo/exporter.c
    awk '{ print }
        /^static int __init demo_exporter_init/ { init = 1 }
        init && /^$/ { print "\tpr_warn(\"dmabuf-demo: an injected warning of ours\\n\");"; init = 0 }
    ' "$f" >"$f.new" && mv "$f.new" "$f" && grep -q 'injected warning of ours' "$f"
}

demo_cases() {
    log "check-harness: make demo on $HARNESS_KERNEL: unmodified, and printing kernel-like lines beside a real warning"
    demo_boot clean &
    demo_boot warn demo_prints_kernel_lines demo_exporter_warns &
    wait
    local d=$WORK/demo-clean
    if [ "$(cat "$d/demo.rc")" = 0 ] && grep -qE "^$HARNESS_KERNEL: [1-9][0-9]* passed, 0 failed, 0 skipped$" "$d/demo.out"; then
        ok "demo: the unmodified demo passes: $(grep -E "^$HARNESS_KERNEL: " "$d/demo.out")"
    else
        bad "demo: the unmodified demo fails (output: $d/demo.out)"
        tail -n 15 "$d/demo.out" | sed 's/^/    /'
    fi
    d=$WORK/demo-warn
    if [ "$(cat "$d/demo.rc")" != 0 ] && [ "$(cat "$d/demo.rc")" != 99 ] &&
        grep -qE "^$HARNESS_KERNEL: [1-9][0-9]* passed, 1 failed, 0 skipped$" "$d/demo.out" &&
        grep -q "FAIL: kernel: unexpected warning of ours: .*an injected warning of ours" "$d/demo.out" &&
        grep -q "printed by the demo" "$d/demo.out"; then
        ok "demo: lines the demo prints are not kernel lines; a warning of ours during the demo fails it"
    else
        bad "demo: wanted exactly the injected warning as the one failure (output: $d/demo.out)"
        tail -n 15 "$d/demo.out" | sed 's/^/    /'
    fi
}

main() {
    local cases=${*:-crash missing warn hang leak ktap demo}
    rm -rf "$V"
    verdict_cases
    exit_after_main_case
    if [ "$HARNESS_BOOTS" != 0 ]; then
        require_root
        apt_sources_case
        case " $cases " in *" demo "*) demo_cases ;; esac
        cases=$(printf '%s\n' $cases | { grep -vx demo || true; } | tr '\n' ' ')
        # shellcheck disable=SC2086
        [ -z "${cases// }" ] || injection_cases $cases
    fi
    echo
    echo "$NPASS passed, $NFAIL failed"
    [ "$NFAIL" -eq 0 ]
}

main "$@"; exit
