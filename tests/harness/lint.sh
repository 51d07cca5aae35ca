#!/usr/bin/env bash
# `make lint`: the kernel code's static checks, all of which must be clean.
#
#   - checkpatch.pl --strict and kernel-doc -Wall, from the newest Debian
#     linux-source-* package, over every kernel source and header;
#   - a W=1 build with sparse (C=2) for every target kernel (KERNELS= limits
#     the set, as for make check), failing on any warning;
#   - the README's arm64 cross-build (the top-level Makefile given KDIR,
#     ARCH and CROSS_COMPILE) for the first host-built arm64 family;
#   - readme-commands.sh: every command the README has a user run is run
#     by some CI target.
#
# Prints each finding and a last line "lint: N problems"; exits non-zero on
# any.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KERNELS=${KERNELS:-$ALL_FAMILIES}
PROBLEMS=0

problem() {
    echo "lint: $*"
    PROBLEMS=$((PROBLEMS + 1))
}

# The kernel sources and headers of the project (not the userspace tests).
kernel_files() {
    (cd "$SRC_DIR" && find src include tests/kmod examples -name '*.[ch]' | sort)
}

# Unpack checkpatch.pl and kernel-doc (with their data files) from the
# newest linux-source-* package; print the directory holding scripts/.
lint_scripts() {
    host_apt_install sparse >&2
    unpack_linux_source lint '*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
        '*/scripts/const_structs.checkpatch' '*/scripts/kernel-doc*'
}

run_checkpatch() {
    local tree=$1 out
    log "checkpatch --strict"
    # shellcheck disable=SC2046
    out=$(cd "$SRC_DIR" && perl "$tree/scripts/checkpatch.pl" --strict --no-tree \
        --terse --show-types -f $(kernel_files) 2>&1 |
        grep -v '^total: 0 errors, 0 warnings, 0 checks' || true)
    [ -z "$out" ] || { echo "$out"; problem "checkpatch findings above"; }
}

# Every build of the test programs goes through build_guest_programs
# (lib.sh), which hands tests/Makefile the kernel's kselftest_harness.h: a
# bare make -C tests works only where tests/bin is built already, and
# make bench and make check-package failed so on a fresh clone.
check_test_builds() {
    local out
    log "test program builds"
    out=$(cd "$SRC_DIR" && grep -n 'make [^|]*-C "\$REPO_ROOT/tests"' tests/harness/*.sh |
        grep -v '^tests/harness/lib.sh:[0-9]*: .*"\${args\[@\]}"' || true)
    [ -z "$out" ] || { echo "$out"; problem "test programs built without build_guest_programs (above)"; }
}

run_kernel_doc() {
    local tree=$1 out kdoc
    log "kernel-doc -Wall"
    kdoc=$tree/scripts/kernel-doc
    [ -e "$kdoc" ] || kdoc=$tree/scripts/kernel-doc.pl
    # shellcheck disable=SC2046
    out=$(cd "$SRC_DIR" && "$kdoc" -none -Wall $(kernel_files | grep '\.c$') \
        include/linux/dmabuf_core.h include/uapi/linux/*.h \
        examples/*/include/uapi/linux/*.h 2>&1 || true)
    [ -z "$out" ] || { echo "$out"; problem "kernel-doc findings above"; }
}

# Newer kernels run scripts/checker-valid.sh before honouring C=, and
# Debian's headers packages do not ship it. Give the headers tree in our
# chroot one that asks what the kernel's asks: can the checker parse
# __typeof_unqual__, which these headers use everywhere? Debian's sparse
# (0.6.4) cannot, so kbuild then says so and checks nothing: reported as a
# skip below, not hidden.
provide_checker_valid() {
    local kdir=$1 common script    # kdir: the headers tree, as seen from here
    common=$(sed -n 's/^include \(.*\)\/Makefile$/\1/p' "$kdir/Makefile" | head -n 1)
    common=${common:+$CHROOT_DIR$common}
    common=${common:-$kdir}
    grep -q checker-valid "$common/Makefile" || return 0
    script=$common/scripts/checker-valid.sh
    [ -x "$script" ] && return 0
    cat >"$script" <<'SCRIPT'
#!/bin/sh
# Installed by dmabuf-core's lint.sh: prints 1 when the checker ($1) can
# parse what these headers need.
f=$(mktemp --suffix=.c) || exit 0
echo 'int x; __typeof_unqual__(x) y;' >"$f"
out=$("$@" "$f" 2>&1) && [ -z "$out" ] && echo 1
rm -f "$f"
SCRIPT
    chmod +x "$script"
}

sparse_version() {
    if [ "$1" = chroot ]; then
        echo "sparse $(dpkg-query --admindir="$CHROOT_DIR/var/lib/dpkg" -W -f='${Version}' sparse)"
    else
        echo "sparse $(dpkg-query -W -f='${Version}' sparse)"
    fi
}

# W=1 and sparse for one kernel family.
run_build() {
    local family=$1 log
    "$HARNESS_DIR/kernels.sh" "$family" >/dev/null
    load_kernel_env "$family"
    if [ "$BUILDER" = chroot ]; then
        pkg_installed sparse "" "$CHROOT_DIR/var/lib/dpkg" || {
            chroot_apt_update
            in_chroot apt-get "${APT_OPTS[@]}" install --no-install-recommends sparse \
                >"$CACHE_DIR/chroot-sparse.log" 2>&1 || die "sparse install in chroot failed"
        }
        provide_checker_valid "$CHROOT_DIR$KDIR"
    fi
    log "W=1 C=2 build for $family ($KREL)"
    # A build dir of its own, next to the one make check uses.
    mkdir -p "$BUILD_DIR/lint/kernels"
    cp "$(kernel_env_file "$family")" "$BUILD_DIR/lint/kernels/"
    if ! BUILD_DIR=$BUILD_DIR/lint KBUILD_EXTRA="W=1 C=2" \
            "$HARNESS_DIR/build-modules.sh" "$family" 2>/dev/null; then
        problem "$family: build failed (see $BUILD_DIR/lint/logs/$family-build.log)"
        return
    fi
    log=$BUILD_DIR/lint/logs/$family-build.log
    if grep -q 'is not available or not up to date' "$log"; then
        echo "lint: $family: sparse skipped: $(sparse_version "$BUILDER") cannot parse these headers; W=1 still checked"
    elif ! grep -q '^  CHECK' "$log"; then
        problem "$family: sparse did not run"
    fi
    if grep -qE 'warning:|error:' "$log"; then
        grep -E 'warning:|error:' "$log"
        problem "$family: compiler or sparse warnings above"
    fi
}

# The README's cross-build, as a user types it, in a copy of the tree:
# the top-level Makefile against an arm64 family's headers (after
# run_build, which fetched them). The modules must come out arm64.
readme_cross_build() {
    local family=$1 dir ko
    load_kernel_env "$family"
    dir=$BUILD_DIR/lint/readme-cross
    rm -rf "$dir"
    mkdir -p "$dir"
    cp -a "$SRC_DIR/Makefile" "$SRC_DIR/Kbuild" "$SRC_DIR/VERSION" "$SRC_DIR/src" \
        "$SRC_DIR/include" "$dir/"
    log "README cross-build: make KDIR=$KDIR ARCH=arm64 CROSS_COMPILE=$CROSS_ARM64"
    if ! (cd "$dir" && env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS \
            make KDIR="$KDIR" ARCH=arm64 CROSS_COMPILE="$CROSS_ARM64" -j2) \
            >"$BUILD_DIR/lint/logs/readme-cross.log" 2>&1; then
        cat "$BUILD_DIR/lint/logs/readme-cross.log"
        problem "$family: the README's cross-build failed"
        return
    fi
    for ko in dmabuf_core dmabuf_demo_exporter dmabuf_demo_importer; do
        readelf -h "$dir/$ko.ko" 2>/dev/null | grep -q 'Machine:.*AArch64' ||
            problem "$family: the README's cross-build gave no arm64 $ko.ko"
    done
}

main() {
    local tree family cross=
    require_root
    "$HARNESS_DIR/deps.sh" >/dev/null
    tree=$(lint_scripts)
    run_checkpatch "$tree"
    run_kernel_doc "$tree"
    check_test_builds
    for family in $KERNELS; do
        check_family "$family"
        run_build "$family"
        if [ -z "$cross" ] && [ "$(family_arch "$family")" = arm64 ] && [ "$BUILDER" = host ]; then
            cross=$family
        fi
    done
    [ -z "$cross" ] || readme_cross_build "$cross"
    "$HARNESS_DIR/readme-commands.sh" || problem "README commands without a place in CI (above)"
    echo "lint: $PROBLEMS problems"
    [ "$PROBLEMS" -eq 0 ]
}

main "$@"; exit
