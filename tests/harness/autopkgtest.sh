#!/usr/bin/env bash
# Debian's own test of the -dkms packages: autopkgtest runs
# debian/tests/control (dkms-autopkgtest) on the .debs of package.sh, in a
# fresh copy of upgrade.sh's bookworm system that has bookworm's own kernel
# headers (6.1: upgrade.sh already builds for 6.12, and each kernel costs
# two DKMS builds here). autopkgtest's null virtualisation makes that copy
# the testbed, as a Debian developer's `autopkgtest ... -- null` in a
# chroot would.
#
#   tests/harness/autopkgtest.sh        (make check-package, after upgrade.sh)
#
# dkms-autopkgtest installs each -dkms package of the source, then builds
# and installs its modules with DKMS for every installed kernel's headers,
# the example driver against dmabuf-core's build (its BUILD_DEPENDS). One
# PASS:/FAIL: line per check; last line "autopkgtest: N passed, M failed".
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ROOT=$BUILD_DIR/autopkgtest-root
ROOT_LOG=$LOG_DIR/autopkgtest-apt.log    # what root_install says
OUT_LOG=$LOG_DIR/autopkgtest.log         # what autopkgtest says
CHECK_NAME=autopkgtest

main() {
    local debs=() f k61 rc=0 pkg
    require_root
    for f in "$BUILD_DIR"/packages/*.deb; do
        case "$f" in *-dbgsym_*) continue ;; esac
        [ -f "$f" ] && debs+=("$f")
    done
    [ ${#debs[@]} -gt 0 ] || die "no packages in $BUILD_DIR/packages: run tests/harness/package.sh first"
    mkdir -p "$LOG_DIR"
    : >"$ROOT_LOG"
    "$HARNESS_DIR/deps.sh" >/dev/null
    "$HARNESS_DIR/kernels.sh" 6.1 >/dev/null
    k61=$(kernel_release 6.1)
    with_lock bookworm-base make_base
    trap 'umount_under "$ROOT"' EXIT
    fresh_root

    log "autopkgtest: the testbed gets autopkgtest and the $k61 headers"
    root_install autopkgtest dctrl-tools "$(headers_pkg 6.1)" ||
        die "installing autopkgtest and the headers failed (log: $ROOT_LOG)"
    rm -rf "$ROOT/tmp/src" "$ROOT/tmp/debs"
    copy_source_tree "$ROOT/tmp/src"
    mkdir -p "$ROOT/tmp/debs"
    cp "${debs[@]}" "$ROOT/tmp/debs/"

    log "autopkgtest: $(cd "$ROOT/tmp/debs" && echo *.deb) -- null"
    # shellcheck disable=SC2016  # expanded by the testbed's shell
    in_root sh -c 'autopkgtest --summary-file=/tmp/summary /tmp/src /tmp/debs/*.deb -- null' \
        >"$OUT_LOG" 2>&1 || rc=$?
    # 0: every test passed; 2: some skipped; anything else failed.
    if [ "$rc" -eq 0 ]; then
        pass "autopkgtest exits 0: $(tr '\n' ' ' <"$ROOT/tmp/summary" 2>/dev/null)"
    else
        fail "autopkgtest exits $rc: $(tr '\n' ' ' <"$ROOT/tmp/summary" 2>/dev/null) (log: $OUT_LOG)"
        tail -n 40 "$OUT_LOG" | sed 's/^/    /'
    fi
    # dkms-autopkgtest's own summary: one "I: PASS <release>" per package
    # and kernel, in package order (dmabuf-core-dkms, dmabuf-example-dkms).
    for pkg in dmabuf-core-dkms dmabuf-example-dkms; do
        expect "dkms-autopkgtest tested $pkg" grep -q "Testing binary package $pkg" "$OUT_LOG"
    done
    if [ "$(grep -c "^I: PASS $k61\$" "$OUT_LOG")" -eq 2 ]; then
        pass "both packages built and installed by DKMS for $k61"
    else
        fail "both packages built and installed by DKMS for $k61: $(grep -E "^I: (PASS|FAIL|SKIP) " "$OUT_LOG" | tr '\n' ' ')"
    fi

    umount_under "$ROOT"
    rm -rf "$ROOT"
    trap - EXIT
    summary
}

main "$@"; exit
