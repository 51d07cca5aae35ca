#!/usr/bin/env bash
# `make check`: the whole test run.
#
#   tests/harness/check.sh                     all kernels: 6.1 6.12 newest
#   KERNELS="6.1 newest" tests/harness/check.sh
#   CHECK_SET=debug tests/harness/check.sh     `make check-debug`: the debug
#                                              kernel (debug-kernel.sh)
#
# The summary names the families the set expects and those that ran; a
# KERNELS= narrower than the set says so in the last lines (.ci/run never
# narrows it).
# Builds the test programs, then for each kernel family: fetch the kernel
# (kernels.sh), build the modules (build-modules.sh), pack the initramfs
# (initramfs.sh), boot it (boot.sh) and tally the console (verdict.sh).
# A kernel whose fetch or build fails counts one failure and the run goes on
# with the next one. The last line printed is "N passed, M failed" (totals);
# the exit status is non-zero on any failure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

CHECK_SET=${CHECK_SET:-stock}
case "$CHECK_SET" in
    stock) SET_FAMILIES=$ALL_FAMILIES ;;
    debug) SET_FAMILIES=debug
        # KASAN, lockdep and kmemleak under TCG: several times slower.
        # KASAN's quarantine holds freed memory: MemFree-based leak
        # checks get room, kmemleak and the counters stay exact.
        export BOOT_TIMEOUT=${BOOT_TIMEOUT:-2400} PROG_TIMEOUT=${PROG_TIMEOUT:-1200} \
            MEM_SLACK_MB=${MEM_SLACK_MB:-256} ;;
    *) die "CHECK_SET must be stock or debug, not '$CHECK_SET'" ;;
esac
KERNELS=${KERNELS:-$SET_FAMILIES}
RAN=()            # families that booted and were tallied
TOTAL_PASS=0
TOTAL_FAIL=0
SUMMARY=()        # one "family: N passed, M failed" line per kernel
FAIL_LINES=()     # every failure, prefixed with its kernel

# Record a failure that happened outside the guest.
harness_fail() {   # harness_fail FAMILY MESSAGE
    SUMMARY+=("$1: 0 passed, 1 failed")
    FAIL_LINES+=("$1: FAIL: $2")
    TOTAL_FAIL=$((TOTAL_FAIL + 1))
    echo "$1: FAIL: $2"
}

build_test_programs() {
    log "building test programs (tests/Makefile)"
    make -C "$REPO_ROOT/tests" -j2 &&
        "$HARNESS_DIR/kselftest.sh" "$REPO_ROOT/tests/bin"
}

run_kernel() {
    local fam=$1 start krel
    start=$(date +%s)
    echo
    echo "======== kernel $fam ========"
    timed "$fam: fetch" "$HARNESS_DIR/kernels.sh" "$fam" ||
        { harness_fail "$fam" "fetching the kernel or its headers failed (see above)"; return 0; }
    krel=$(kernel_release "$fam")
    timed "$fam: module build" "$HARNESS_DIR/build-modules.sh" "$fam" ||
        { harness_fail "$fam" "module build failed for $krel (compiler output above)"; return 0; }
    timed "$fam: initramfs" "$HARNESS_DIR/initramfs.sh" "$fam" tests >/dev/null ||
        { harness_fail "$fam" "packing the initramfs failed"; return 0; }
    timed "$fam: boot" "$HARNESS_DIR/boot.sh" "$fam" tests ||
        { harness_fail "$fam" "could not boot QEMU"; return 0; }

    tally_run "$fam" "$krel" tests
    RAN+=("$fam")

    # The same kernel with swiotlb=force: refusals instead of bounce copies.
    if timed "$fam: nobounce initramfs" "$HARNESS_DIR/initramfs.sh" "$fam" nobounce >/dev/null &&
        timed "$fam: nobounce boot" "$HARNESS_DIR/boot.sh" "$fam" nobounce; then
        tally_run "$fam" "$krel" nobounce
    else
        harness_fail "$fam" "the swiotlb=force (nobounce) boot could not run"
    fi
    log "$fam: done in $(($(date +%s) - start))s"
}

# Add one guest run's verdict to the totals: tally_run FAMILY RELEASE MODE.
tally_run() {
    local fam=$1 krel=$2 mode=$3 out pass fail line name=$1
    [ "$mode" = tests ] || name=$fam-$mode
    out=$("$HARNESS_DIR/verdict.sh" "$fam" "$mode")
    echo "$out"
    read -r pass fail <"$LOG_DIR/$name.tally"
    TOTAL_PASS=$((TOTAL_PASS + pass))
    TOTAL_FAIL=$((TOTAL_FAIL + fail))
    SUMMARY+=("$name ($krel): $pass passed, $fail failed")
    while IFS= read -r line; do
        FAIL_LINES+=("$name: $line")
    done < <(printf '%s\n' "$out" | sed -n 's/^  \(FAIL: .*\)$/\1/p')
}

print_summary() {
    local s
    echo
    echo "======== summary ========"
    for s in "${SUMMARY[@]}"; do
        echo "$s"
    done
    if [ ${#FAIL_LINES[@]} -gt 0 ]; then
        echo
        printf '%s\n' "${FAIL_LINES[@]}"
    fi
    echo
    echo "families expected: $SET_FAMILIES; run: ${RAN[*]:-none}"
    if [ "$(printf '%s\n' $KERNELS | sort -u)" != "$(printf '%s\n' $SET_FAMILIES | sort -u)" ]; then
        echo "NOTE: KERNELS=\"$KERNELS\" narrowed the run: not the full set ($SET_FAMILIES)"
    fi
    echo "$TOTAL_PASS passed, $TOTAL_FAIL failed"
}

main() {
    local fam start
    start=$(date +%s)
    require_root
    for fam in $KERNELS; do check_family "$fam"; done
    "$HARNESS_DIR/deps.sh"
    mkdir -p "$LOG_DIR"

    if ! build_test_programs; then
        harness_fail all "building the test programs failed (compiler output above)"
    else
        for fam in $KERNELS; do
            run_kernel "$fam"
        done
    fi
    log "total time $(($(date +%s) - start))s"
    print_summary
    [ "$TOTAL_FAIL" -eq 0 ] && [ "$TOTAL_PASS" -gt 0 ]
}

main
