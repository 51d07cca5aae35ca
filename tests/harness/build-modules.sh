#!/usr/bin/env bash
# Build the out-of-tree modules for one kernel family (after kernels.sh).
#
#   tests/harness/build-modules.sh FAMILY
#
# Copies the kbuild tree ($SRC_DIR: Kbuild, VERSION, src/, include/,
# tests/kmod/, examples/) into a fresh per-kernel dir and runs
#   make -C KDIR M=<dir> DMABUF_SELFTEST=1 modules
# on the host (6.1, 6.12: host gcc-12) or inside the trixie chroot (newest:
# its gcc-14); for arm64 families with ARCH=arm64 and that builder's
# aarch64-linux-gnu- cross compiler of the same gcc version. Then the example third-party driver
# (examples/dmabuf-example) is built as its users build theirs: against
# an installed dmabuf-core's layout, the API headers in <dir>/kapi/include
# and this build's Module.symvers in <dir>/kapi/<kernelrelease>/.
# The .ko files end up in build/<kernelrelease>/ either way.
# The compiler output is in build/logs/FAMILY-build.log; on failure it is
# printed and the script exits non-zero.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

FAMILY=${1:-}
check_family "$FAMILY"

KBUILD_FILES=(Kbuild VERSION)              # Kbuild is required
KBUILD_DIRS=(src include tests/kmod examples)   # copied when present
JOBS=${JOBS:-2}

# Fill $1 with a copy of the kbuild tree.
copy_tree() {
    local dst=$1 item
    [ -f "$SRC_DIR/Kbuild" ] || die "no Kbuild in $SRC_DIR"
    rm -rf "$dst"
    mkdir -p "$dst"
    for item in "${KBUILD_FILES[@]}" "${KBUILD_DIRS[@]}"; do
        [ -e "$SRC_DIR/$item" ] || continue
        mkdir -p "$dst/$(dirname "$item")"
        cp -a "$SRC_DIR/$item" "$dst/$item"
    done
}

# Run kbuild; $1 = "host" or "chroot", $2 = module dir as the builder sees
# it, then more make arguments.
# MAKEFLAGS and friends from an outer `make check` are dropped (and ARCH,
# CROSS_COMPILE: `ARCH=arm64 make demo` picks a family, not a compiler): a variable
# given to the outer make (say KDIR=...) must not leak into kbuild.
run_kbuild() {
    local builder=$1 mdir=$2
    shift 2
    # KBUILD_EXTRA: more make arguments, e.g. "W=1 C=2" from lint.sh.
    # shellcheck disable=SC2206
    local cmd=(make -C "$KDIR" M="$mdir" $(kbuild_arch_args "${KARCH:-amd64}") "$@"
        -j"$JOBS" ${KBUILD_EXTRA:-} modules)
    if [ "$builder" = chroot ]; then
        in_chroot "${cmd[@]}"
    else
        env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES -u ARCH -u CROSS_COMPILE "${cmd[@]}"
    fi
}

main() {
    local out log rc=0 mdir work ko
    load_kernel_env "$FAMILY"
    out=$BUILD_DIR/$KREL
    log=$LOG_DIR/$FAMILY-build.log
    mkdir -p "$LOG_DIR"

    # shellcheck disable=SC2153  # BUILDER comes from the kernel env file
    if [ "$BUILDER" = chroot ]; then
        mdir=/build/$KREL               # path inside the chroot
        work=$CHROOT_DIR$mdir
    else
        mdir=$out
        work=$out
    fi
    copy_tree "$work"

    log "building modules for $KREL ($FAMILY, $BUILDER gcc)"
    run_kbuild "$BUILDER" "$mdir" DMABUF_SELFTEST=1 >"$log" 2>&1 || rc=$?
    if [ "$rc" -eq 0 ] && [ -d "$work/examples/dmabuf-example" ]; then
        # The layout make install and the DKMS package give /usr/src/dmabuf-core.
        mkdir -p "$work/kapi/$KREL"
        cp -a "$work/include" "$work/kapi/"
        cp "$work/Module.symvers" "$work/kapi/$KREL/"
        run_kbuild "$BUILDER" "$mdir/examples/dmabuf-example" \
            DMABUF_CORE_DIR="$mdir/kapi" >>"$log" 2>&1 || rc=$?
        [ "$rc" -ne 0 ] || cp "$work/examples/dmabuf-example/dmabuf_example.ko" "$work/"
    fi
    if [ "$rc" -ne 0 ]; then
        echo "---- module build for $KREL failed; compiler output ($log): ----" >&2
        cat "$log" >&2
        echo "---- end of compiler output ----" >&2
        die "module build failed for $FAMILY ($KREL)"
    fi
    # Compiler warnings are not fatal here, but worth seeing.
    if grep -qE 'warning:' "$log"; then
        warn "compiler warnings for $KREL (full log: $log):"
        grep -E -B2 -A3 'warning:' "$log" >&2 || true
    fi

    if [ "$BUILDER" = chroot ]; then  # shellcheck disable=SC2153
        rm -rf "$out"
        mkdir -p "$out"
        cp -a "$work/." "$out/"
    fi
    shopt -s nullglob
    ko=("$out"/*.ko)
    [ ${#ko[@]} -gt 0 ] || die "the build of $KREL produced no .ko at the top of $out"
    log "built: $(cd "$out" && echo *.ko)"
}

main; exit
