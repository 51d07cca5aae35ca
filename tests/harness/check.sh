#!/usr/bin/env bash
# `make check`: the whole test run.
#
#   tests/harness/check.sh                     all kernels: 6.1 6.12 newest,
#                                              6.1-arm64 6.12-arm64 newest-arm64,
#                                              6.1-rt 6.12-rt
#   KERNELS="6.1-rt-arm64 6.12-rt-arm64" tests/harness/check.sh
#                                              the arm64 RT flavours, only
#                                              when named
#   KERNELS="6.1 newest" tests/harness/check.sh
#   CHECK_SET=debug tests/harness/check.sh     `make check-debug`: the debug
#                                              kernel (debug-kernel.sh)
#   EXTRA_BOOTS=0 tests/harness/check.sh       the tests boot of each kernel
#                                              only (no nobounce, iommu boots)
#   CHECK_SET=stress tests/harness/check.sh    `make check-stress`: the long
#                                              runs (tests/guest/run-stress.sh)
#                                              on every stock kernel and the
#                                              debug kernel
#
# The debug kernel runs on truly parallel vCPUs (TCG_THREAD=multi, see
# tests/harness/README.md); the stock kernels on one host thread.
# The summary names the families the set expects and those that ran; a
# KERNELS= narrower than the set says so in the last lines (.ci/run never
# narrows it).
# CHECK_JOBS (default 2 for the stock set, 1 otherwise): families run at
# once. A stock guest runs on one host thread, so two of them fill the two
# cores; each family's output is printed whole, in KERNELS order, once it
# and those before it are done. The debug kernel's guests run on two host
# threads: its sets run one family at a time.
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
        export BOOT_TIMEOUT=${BOOT_TIMEOUT:-2400} PROG_TIMEOUT=${PROG_TIMEOUT:-1200} ;;
    stress) SET_FAMILIES="$ALL_FAMILIES debug"
        # 1M fuzzer operations: about 6 min on a stock kernel, 30 on debug.
        export BOOT_TIMEOUT=${BOOT_TIMEOUT:-7200} PROG_TIMEOUT=${PROG_TIMEOUT:-5400} ;;
    *) die "CHECK_SET must be stock, debug or stress, not '$CHECK_SET'" ;;
esac
KERNELS=${KERNELS:-$SET_FAMILIES}
# 0: only the tests boot of each kernel, without the nobounce and iommu
# boots (check-harness.sh's injected runs; .ci/run never sets it).
EXTRA_BOOTS=${EXTRA_BOOTS:-1}
CHECK_JOBS=${CHECK_JOBS:-$([ "$CHECK_SET" = stock ] && echo 2 || echo 1)}
case "$CHECK_JOBS" in
    [1-9]) ;;
    *) die "CHECK_JOBS must be 1 to 9, not '$CHECK_JOBS'" ;;
esac
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
    local arch
    # shellcheck disable=SC2086  # KERNELS is a list
    for arch in $(archs_of $KERNELS); do
        log "building $arch test programs (tests/Makefile)"
        build_guest_programs "$arch" kselftest || return 1
    done
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
    if [ "$CHECK_SET" = stress ]; then
        run_boot "$fam" "$krel" stress && RAN+=("$fam")
        log "$fam: done in $(($(date +%s) - start))s"
        return 0
    fi
    run_boot "$fam" "$krel" tests || return 0
    RAN+=("$fam")
    if [ "$EXTRA_BOOTS" = 0 ]; then
        log "$fam: done in $(($(date +%s) - start))s (tests boot only: EXTRA_BOOTS=0)"
        return 0
    fi
    # The extra boots test DMA mapping under swiotlb and an IOMMU, which the
    # RT flavour shares with its series: its locking is what the tests
    # boot is there for.
    if [ -n "$(family_flavour "$fam")" ]; then
        log "$fam: done in $(($(date +%s) - start))s (tests boot only: an RT flavour)"
        return 0
    fi

    # The same kernel with swiotlb=force: refusals instead of bounce copies.
    run_boot "$fam" "$krel" nobounce || true
    # A PCI device doing real DMA behind QEMU's intel-iommu, translating and
    # in passthrough.
    run_boot "$fam" "$krel" iommu-translated || true
    run_boot "$fam" "$krel" iommu-identity || true
    log "$fam: done in $(($(date +%s) - start))s"
}

# Pack, boot and tally one guest run: run_boot FAMILY RELEASE MODE.
run_boot() {
    local fam=$1 krel=$2 mode=$3
    # Parallel vCPUs for the debug kernel: races its checkers can see.
    local tcg=single
    [ "$fam" = debug ] && tcg=multi
    if ! timed "$fam: $mode initramfs" "$HARNESS_DIR/initramfs.sh" "$fam" "$mode" >/dev/null; then
        harness_fail "$fam" "packing the $mode initramfs failed"
        return 1
    fi
    if ! TCG_THREAD=${TCG_THREAD:-$tcg} timed "$fam: $mode boot" "$HARNESS_DIR/boot.sh" "$fam" "$mode"; then
        harness_fail "$fam" "the $mode boot could not run QEMU"
        return 1
    fi
    tally_run "$fam" "$krel" "$mode"
}

# Add one guest run's verdict to the totals: tally_run FAMILY RELEASE MODE.
tally_run() {
    local fam=$1 krel=$2 mode=$3 out pass fail line name=$1
    [ "$mode" = tests ] || name=$fam-$mode
    out=$("$HARNESS_DIR/verdict.sh" "$fam" "$mode") || true
    echo "$out"
    # verdict.sh removes the old tally first: none means it died.
    if ! read -r pass fail 2>/dev/null <"$LOG_DIR/$name.tally"; then
        harness_fail "$name" "verdict.sh wrote no tally for this run"
        return 0
    fi
    TOTAL_PASS=$((TOTAL_PASS + pass))
    TOTAL_FAIL=$((TOTAL_FAIL + fail))
    SUMMARY+=("$name ($krel): $pass passed, $fail failed")
    while IFS= read -r line; do
        FAIL_LINES+=("$name: $line")
    done < <(printf '%s\n' "$out" | sed -n 's/^  \(FAIL: .*\)$/\1/p')
}

# ---- families in parallel ----------------------------------------------------

# The results of one family run in a subshell, for the parent to add up:
# its arrays as F_RAN, F_SUMMARY, F_FAIL_LINES, its totals as F_PASS, F_FAIL.
save_family() {   # save_family FAMILY
    {
        declare -p RAN SUMMARY FAIL_LINES | sed 's/^declare -a /declare -ga F_/'
        echo "F_PASS=$TOTAL_PASS F_FAIL=$TOTAL_FAIL"
    } >"$LOG_DIR/$1.check-state"
}

add_family() {   # add_family FAMILY: print its output, add its results
    local f=$LOG_DIR/$1.check-state
    cat "$LOG_DIR/$1.check-out"
    if ! grep -q '^F_PASS=' "$f" 2>/dev/null; then
        harness_fail "$1" "its run ended without results (output above)"
        return 0
    fi
    # shellcheck disable=SC1090
    . "$f"
    RAN+=("${F_RAN[@]}")
    SUMMARY+=("${F_SUMMARY[@]}")
    FAIL_LINES+=("${F_FAIL_LINES[@]}")
    TOTAL_PASS=$((TOTAL_PASS + F_PASS))
    TOTAL_FAIL=$((TOTAL_FAIL + F_FAIL))
}

# Up to CHECK_JOBS families at once, each in a subshell writing its output
# to $LOG_DIR/FAMILY.check-out and its results to FAMILY.check-state.
run_families() {
    local fam running=0 i=0 next=0
    local -a fams pids
    read -ra fams <<<"$KERNELS"
    if [ "$CHECK_JOBS" = 1 ] || [ ${#fams[@]} -le 1 ]; then
        for fam in "${fams[@]}"; do run_kernel "$fam"; done
        return 0
    fi
    log "running ${#fams[@]} families, $CHECK_JOBS at a time (CHECK_JOBS); each one's output follows when it is done"
    for fam in "${fams[@]}"; do
        if [ "$running" -ge "$CHECK_JOBS" ]; then
            wait -n || true
            running=$((running - 1))
        fi
        rm -f "$LOG_DIR/$fam.check-state"
        (
            RAN=() SUMMARY=() FAIL_LINES=() TOTAL_PASS=0 TOTAL_FAIL=0
            run_kernel "$fam"
            save_family "$fam"
        ) >"$LOG_DIR/$fam.check-out" 2>&1 </dev/null &
        pids[i]=$!
        i=$((i + 1))
        running=$((running + 1))
    done
    for fam in "${fams[@]}"; do
        wait "${pids[next]}" 2>/dev/null || true
        next=$((next + 1))
        add_family "$fam"
    done
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
        run_families
    fi
    log "total time $(($(date +%s) - start))s"
    print_summary
    [ "$TOTAL_FAIL" -eq 0 ] && [ "$TOTAL_PASS" -gt 0 ]
}

main; exit
