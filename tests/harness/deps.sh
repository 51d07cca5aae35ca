#!/usr/bin/env bash
# Install the host tools the harness needs (Debian packages only). Idempotent:
# does nothing, and touches no network, when everything is already there.
#
#   tests/harness/deps.sh          host tools
#   tests/harness/deps.sh chroot   also create the cached trixie build chroot
set -euo pipefail
. "$(dirname "$0")/lib.sh"

HOST_PACKAGES=(
    qemu-system-x86   # the guests (TCG)
    qemu-system-arm   # the arm64 guests (qemu-system-aarch64)
    gcc-aarch64-linux-gnu libc6-dev-arm64-cross   # arm64 modules and tests
    busybox-static    # guest userland
    debootstrap       # the trixie chroot for the newest kernel
    cpio gzip xz-utils kmod
    gcc make libc6-dev binutils libkmod-dev   # tests/Makefile
    util-linux coreutils                      # flock, mountpoint, timeout
    udev                                      # systemd-udevd for run-udev.sh
    trinity                                   # syscall fuzzer (check-stress)
)

# Packages for building modules against trixie(-backports) kernel headers,
# for amd64 and (cross) for arm64.
CHROOT_PACKAGES=(build-essential gcc make libc6-dev xz-utils kmod gcc-aarch64-linux-gnu)

install_host_deps() {
    require_root
    host_apt_install "${HOST_PACKAGES[@]}"
}

# debootstrap a minimal trixie once; later runs reuse it. A half-made chroot
# (interrupted run) has no .harness-complete stamp and is made again.
create_chroot() {
    local tmp
    [ -e "$CHROOT_DIR/.harness-complete" ] && return 0
    log "creating trixie chroot in $CHROOT_DIR (once per machine)"
    mkdir -p "$CACHE_DIR"
    tmp=$CHROOT_DIR.tmp
    umount_under "$tmp"
    rm -rf --one-file-system "$tmp"
    debootstrap --variant=minbase trixie "$tmp" "$DEBIAN_MIRROR" \
        >"$CACHE_DIR/debootstrap.log" 2>&1 ||
        { tail -30 "$CACHE_DIR/debootstrap.log" >&2; die "debootstrap failed (log: $CACHE_DIR/debootstrap.log)"; }
    rm -f "$tmp/etc/apt/sources.list"
    cat >"$tmp/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $DEBIAN_MIRROR
Suites: trixie trixie-updates trixie-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${DEBIAN_MIRROR%/debian}/debian-security
Suites: trixie-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    umount_under "$CHROOT_DIR"
    rm -rf --one-file-system "$CHROOT_DIR"
    mv "$tmp" "$CHROOT_DIR"
    FORCE=1 chroot_apt_update
    in_chroot apt-get "${APT_OPTS[@]}" install --no-install-recommends "${CHROOT_PACKAGES[@]}" \
        >"$CACHE_DIR/chroot-install.log" 2>&1 ||
        { tail -30 "$CACHE_DIR/chroot-install.log" >&2; die "chroot package install failed"; }
    touch "$CHROOT_DIR/.harness-complete"
}

# A chroot made before a package joined CHROOT_PACKAGES gets it now.
complete_chroot() {
    local p missing=()
    for p in "${CHROOT_PACKAGES[@]}"; do
        pkg_installed "$p" "" "$CHROOT_DIR/var/lib/dpkg" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]} in the trixie chroot"
    chroot_apt_update
    in_chroot apt-get "${APT_OPTS[@]}" install --no-install-recommends "${missing[@]}" \
        >"$CACHE_DIR/chroot-install.log" 2>&1 ||
        { tail -30 "$CACHE_DIR/chroot-install.log" >&2; die "chroot package install failed"; }
}

main() {
    install_host_deps
    if [ "${1:-}" = chroot ]; then
        with_lock chroot-create create_chroot
        with_lock chroot-create complete_chroot
    fi
}

main "$@"; exit
