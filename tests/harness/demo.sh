#!/usr/bin/env bash
# `make demo`: boot the newest kernel with the modules and run
# tests/guest/run-demo.sh, showing what it prints (on a serial port of its
# own, apart from the kernel's console).
#
#   tests/harness/demo.sh              (DEMO_KERNEL=6.1|6.12 to pick another)
#   ARCH=arm64 tests/harness/demo.sh   the same on arm64 (newest-arm64, or
#                                      DEMO_KERNEL=6.1-arm64|6.12-arm64)
#
# Exits non-zero if the demo printed a FAIL line or missed a name of
# tests/guest/expected-demo.txt, the kernel printed a problem report (see
# verdict.sh), or the guest did not finish the script.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

case "${ARCH:-amd64}" in
    amd64|x86|x86_64) FAM=${DEMO_KERNEL:-newest} ;;
    arm64) FAM=${DEMO_KERNEL:-newest-arm64} ;;
    *) die "ARCH must be amd64 or arm64, not '$ARCH'" ;;
esac

# What the guest printed (its own serial port, so no kernel line is in it):
# between init's start and end notes.
show_demo_output() {
    tr -d '\r' <"$1" | awk '
        /^harness: \/run-demo.sh on / { on = 1; next }
        /^harness: \/run-demo.sh exited/ { print "(" $0 ")"; on = 0; next }
        on && !/^DMABUF-TESTS-DONE/ { print }
    '
}

main() {
    local krel log rc=0
    require_root
    check_family "$FAM"
    "$HARNESS_DIR/deps.sh"
    log "building test programs (tests/Makefile)"
    build_guest_programs "$(family_arch "$FAM")" || die "building the test programs failed"
    "$HARNESS_DIR/kernels.sh" "$FAM"
    krel=$(kernel_release "$FAM")
    "$HARNESS_DIR/build-modules.sh" "$FAM"
    "$HARNESS_DIR/initramfs.sh" "$FAM" demo >/dev/null
    "$HARNESS_DIR/boot.sh" "$FAM" demo
    log=$LOG_DIR/$FAM-demo.log

    echo
    echo "-------- run-demo.sh on $krel ($FAM) --------"
    show_demo_output "$LOG_DIR/$FAM-demo.results"
    echo "-------- end of demo (kernel console: $log) --------"
    echo
    "$HARNESS_DIR/verdict.sh" "$FAM" demo
    read -r _ rc <"$LOG_DIR/$FAM-demo.tally" || die "verdict.sh wrote no tally"
    [ "$rc" -eq 0 ]
}

main; exit
