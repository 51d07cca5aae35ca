#!/usr/bin/env bash
# The userland of another architecture's guests, from bookworm's packages:
# busybox-static, udev (udevadm, systemd-udevd), libkmod (t_kmod links it)
# and the C library, with everything they depend on, unpacked (no dpkg, no
# maintainer scripts) into one directory. Test programs are cross-built
# against it (tests/Makefile SYSROOT=) and initramfs.sh takes the guest's
# busybox, udev and shared libraries from it.
#
#   tests/harness/sysroot.sh ARCH      ARCH: arm64
#
# Prints the directory, $CACHE_DIR/sysroot-ARCH. It is made again when the
# set of .debs apt resolves changes (a security update), else reused.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ARCH=${1:-}
[ "$ARCH" = arm64 ] || die "usage: sysroot.sh arm64"

PACKAGES=(libc6 busybox-static udev libkmod-dev)

main() {
    local dir=$CACHE_DIR/sysroot-$ARCH archives stamp want tmp f name ver
    require_root
    arch_apt_update "$ARCH" bookworm >&2
    archives=$(arch_apt_dir "$ARCH" bookworm)/cache/archives
    # An empty dpkg status: apt resolves the whole dependency closure.
    arch_apt "$ARCH" bookworm apt-get "${APT_OPTS[@]}" install --download-only \
        --no-install-recommends "${PACKAGES[@]}" >"$CACHE_DIR/sysroot-$ARCH.log" 2>&1 || {
        FORCE=1 arch_apt_update "$ARCH" bookworm >&2
        arch_apt "$ARCH" bookworm apt-get "${APT_OPTS[@]}" install --download-only \
            --no-install-recommends "${PACKAGES[@]}" >"$CACHE_DIR/sysroot-$ARCH.log" 2>&1 ||
            { tail -20 "$CACHE_DIR/sysroot-$ARCH.log" >&2; die "fetching the $ARCH userland failed"; }
    }
    # What this closure is: "NAME VERSION" of each .deb apt would install now.
    want=$(arch_apt "$ARCH" bookworm apt-get -s install --no-install-recommends "${PACKAGES[@]}" |
        sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) .*/\1 \2/p' | sort)
    [ -n "$want" ] || die "apt resolved no $ARCH packages for ${PACKAGES[*]}"
    stamp=$dir/.harness-debs
    if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
        echo "$dir"
        return 0
    fi
    log "unpacking the $ARCH userland ($(echo "$want" | wc -l) packages) into $dir"
    tmp=$dir.tmp
    rm -rf "$tmp"
    mkdir -p "$tmp"
    while read -r name ver; do
        # apt names the file NAME_VERSION_ARCH.deb, an epoch's ':' as %3a.
        for f in "$archives/${name}_${ver//:/%3a}"_*.deb ""; do
            [ -f "$f" ] && break
        done
        [ -n "$f" ] || die "no .deb of $name $ver in $archives"
        dpkg-deb -x "$f" "$tmp"
    done <<<"$want"
    if [ ! -x "$tmp/bin/busybox" ] || [ ! -x "$tmp/bin/udevadm" ]; then
        die "the $ARCH userland lacks busybox or udevadm"
    fi
    echo "$want" >"$tmp/.harness-debs"
    rm -rf "$dir"
    mv "$tmp" "$dir"
    echo "$dir"
}

main; exit
