#!/usr/bin/env bash
# Build the debug kernel: Debian's linux-source-6.12 with a config of our own
# (allnoconfig + debug-kernel/debug.config: KASAN, lockdep, DMA-API debug,
# kmemleak, debug objects, UBSAN, DMABUF_DEBUG, fault injection), vgem and
# vivid as modules. Cached by source version and config: a second run with
# the same inputs does nothing.
#
#   tests/harness/debug-kernel.sh          build if needed, print the dir
#   tests/harness/debug-kernel.sh deps     only install what the build needs
#                                          (.ci/run, before it builds in the
#                                          background)
#
# Output, in $CACHE_DIR/debug-kernel/<source-version>-<config-hash>/:
#   out/                 the build tree: KDIR for our modules, bzImage,
#                        .config, Module.symvers
#   root/lib/modules/    modules_install of its modules (vgem, vivid, ...)
#   build.log            the kernel build's output
#   build-seconds        wall time of the build
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SOURCE_PKG=linux-source-6.12
FRAGMENT=$HARNESS_DIR/debug-kernel/debug.config
BUILD_PACKAGES=(gcc make bc flex bison libelf-dev libssl-dev cpio xz-utils kmod)
JOBS=${JOBS:-2}
LAYOUT=debug-v1     # bump when the build steps change what lands in the dir

# The kernel's own make, without an outer make's flags.
kmake() {
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
        make -C "$SRC" O="$OUT" "$@"
}

unpack_source() {   # unpack_source VERSION: full tree, once per version
    local tarball
    SRC=$CACHE_DIR/debug-kernel/src-$1
    [ -e "$SRC/.done" ] && return 0
    tarball=$(dpkg -L "$SOURCE_PKG" | grep -E '/linux-source-[0-9.]+\.tar\.(xz|bz2|gz)$' | head -n 1)
    [ -n "$tarball" ] || die "no source tarball in $SOURCE_PKG"
    log "unpacking $tarball"
    rm -rf "$SRC"
    mkdir -p "$SRC"
    tar -xf "$tarball" -C "$SRC" --strip-components=1
    touch "$SRC/.done"
}

# Every line of the fragment must be in the final .config as written
# (=n: not set). Prints the ones that are not; fails if any.
verify_config() {
    local line sym val bad=0
    while IFS= read -r line; do
        case "$line" in CONFIG_*=*) ;; *) continue ;; esac
        sym=${line%%=*}
        val=${line#*=}
        if [ "$val" = n ]; then
            grep -q "^$sym=" "$OUT/.config" || continue
        else
            grep -qxF "$line" "$OUT/.config" && continue
        fi
        echo "  wanted $line, got: $(grep -E "^(# )?$sym[= ]" "$OUT/.config" || echo 'absent')" >&2
        bad=1
    done <"$FRAGMENT"
    return $bad
}

build() {
    local start
    start=$(date +%s)
    rm -rf "$OUT" "$DIR/root"
    mkdir -p "$OUT"
    log "configuring the debug kernel in $OUT"
    kmake allnoconfig >/dev/null
    "$SRC/scripts/kconfig/merge_config.sh" -m -O "$OUT" "$OUT/.config" "$FRAGMENT" >/dev/null
    kmake olddefconfig >/dev/null
    verify_config || die "the debug kernel config lost options of $FRAGMENT (see above)"
    log "building the debug kernel (-j$JOBS; log: $DIR/build.log)"
    if ! kmake -j"$JOBS" bzImage modules >"$DIR/build.log" 2>&1; then
        tail -40 "$DIR/build.log" >&2
        die "debug kernel build failed (log: $DIR/build.log)"
    fi
    kmake INSTALL_MOD_PATH="$DIR/root" modules_install >>"$DIR/build.log" 2>&1 ||
        die "modules_install failed (log: $DIR/build.log)"
    echo $(($(date +%s) - start)) >"$DIR/build-seconds"
    log "debug kernel built in $(cat "$DIR/build-seconds")s"
}

main() {
    local ver hash
    require_root
    host_apt_install "${BUILD_PACKAGES[@]}" "$SOURCE_PKG"
    [ "${1:-}" != deps ] || return 0
    ver=$(dpkg-query -W -f='${Version}' "$SOURCE_PKG")
    hash=$(cat "$FRAGMENT" - <<<"$LAYOUT" | sha256sum | cut -c1-12)
    DIR=$CACHE_DIR/debug-kernel/$ver-$hash
    OUT=$DIR/out
    if [ ! -e "$DIR/.done" ]; then
        mkdir -p "$DIR"
        unpack_source "$ver"
        build
        touch "$DIR/.done"
    fi
    echo "$DIR"
}

with_lock debug-kernel main "$@"; exit
