#!/usr/bin/env bash
# Resolve, fetch and unpack one kernel family, and install its headers where
# its modules get built. Versions come from apt at run time; nothing here names
# an ABI number.
#
#   tests/harness/kernels.sh FAMILY      FAMILY: 6.1 | 6.12 | newest |
#                                        6.1-arm64 | 6.12-arm64 | newest-arm64
#
#   6.1     bookworm linux-image-amd64      -> linux-image-6.1.0-NN-amd64
#   6.12    bookworm linux-image-6.12-amd64 -> linux-image-6.12.NNN+deb12-amd64
#   newest  trixie-backports linux-image-amd64 -> linux-image-<ver>-amd64, whose
#           vmlinuz and config come in split packages (linux-binary-<ver>,
#           linux-base-<ver>); resolved and built inside the trixie chroot.
#   *-rt    the PREEMPT_RT flavour of the series (linux-image-rt-amd64,
#           linux-image-6.12-rt-amd64; -rt-arm64: linux-image-rt-arm64,
#           linux-image-6.12-rt-arm64), otherwise as the series itself.
#   *-arm64 the same series for arm64 (linux-image-arm64,
#           linux-image-6.12-arm64), resolved and fetched with arch_apt (the
#           host's dpkg never gets the architecture). The arm64 headers
#           package is unpacked beside the amd64 ones it shares its -common
#           part and its linux-kbuild host tools with (host, or the chroot
#           for newest-arm64); modules are cross-built (build-modules.sh).
#   debug   our build of linux-source-6.12 (debug-kernel.sh), not from apt
#
# The resolved release must belong to its family (6.1.x, 6.12.x, a series
# newer than 6.12): a meta package that moved on stops the run here.
#
# Unpacked kernels live in $CACHE_DIR/kernels/<release>/ (made once per
# package version). Writes build/kernels/FAMILY.env for the later steps.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

FAMILY=${1:-}
check_family "$FAMILY"
ARCH=$(family_arch "$FAMILY")
SERIES=$(family_series "$FAMILY")
FLAVOUR=$(family_flavour "$FAMILY")
# The suite the family's packages come from (for arch_apt).
SUITE=$([ "$SERIES" = newest ] && echo trixie || echo bookworm)

# ---- apt queries, on the host (bookworm) or in the chroot (trixie) ---------

apt_q() {   # apt_q apt-cache ARGS...: run an apt command for this family
    if [ "$ARCH" != amd64 ]; then
        arch_apt "$ARCH" "$SUITE" "$@"
    elif [ "$SERIES" = newest ]; then
        in_chroot "$@"
    else
        host_apt "$@"
    fi
}

apt_refresh() {
    if [ "$ARCH" != amd64 ]; then
        FORCE=${1:-0} arch_apt_update "$ARCH" "$SUITE"
    elif [ "$SERIES" = newest ]; then
        FORCE=${1:-0} chroot_apt_update
    else
        FORCE=${1:-0} host_apt_update
    fi
}

meta_package() {
    local flavour=${FLAVOUR:+$FLAVOUR-}
    case "$SERIES" in
        6.1|newest) echo "linux-image-$flavour$ARCH" ;;
        6.12) echo "linux-image-6.12-$flavour$ARCH" ;;
    esac
}

target_release() {   # the suite the newest kernel comes from
    [ "$SERIES" = newest ] && echo "-t trixie-backports"
    true
}

# Names of the packages $1 depends on (candidate version).
depends_of() {
    # shellcheck disable=SC2046
    apt_q apt-cache $(target_release) depends --no-recommends --no-suggests \
        --no-conflicts --no-breaks --no-replaces --no-enhances "$1" 2>/dev/null |
        sed -n 's/^ *|\{0,1\}\(Pre\)\{0,1\}Depends: \([^ <>]*\)$/\2/p'
}

candidate_version() {
    # shellcheck disable=SC2046
    apt_q apt-cache $(target_release) policy "$1" 2>/dev/null |
        awk '/^ *Candidate:/ { print $2 }'
}

# linux-image-amd64 -> linux-image-6.1.0-56-amd64 (the real image package).
resolve_image_package() {
    depends_of "$(meta_package)" | grep -E '^linux-image-[0-9]' | head -n1 || true
}

resolve() {
    apt_refresh 0
    IMAGE_PKG=$(resolve_image_package)
    if [ -z "$IMAGE_PKG" ]; then
        apt_refresh 1
        IMAGE_PKG=$(resolve_image_package)
    fi
    [ -n "$IMAGE_PKG" ] || die "cannot resolve the image package behind $(meta_package) for $FAMILY"
    KREL=${IMAGE_PKG#linux-image-}
    KVERSION=$(candidate_version "$IMAGE_PKG")
    if [ -z "$KVERSION" ] || [ "$KVERSION" = "(none)" ]; then
        die "no installable version of $IMAGE_PKG"
    fi
}

# The packages holding vmlinuz and config. Older layouts ship both in the
# image package itself; trixie-backports splits them out.
image_payload_packages() {
    local dep out=()
    for dep in $(depends_of "$IMAGE_PKG"); do
        case "$dep" in
            linux-binary-*"$KREL"|linux-base-*"$KREL") out+=("$dep") ;;
        esac
    done
    if [ ${#out[@]} -eq 0 ]; then
        out=("$IMAGE_PKG")
    else
        out+=("linux-modules-$KREL")   # the split layout's module tree
    fi
    echo "${out[@]}"
}

# ---- fetch and unpack ------------------------------------------------------

# apt-get download PKG=VERSION... into $CACHE_DIR/debs (skips present files).
download_debs() {
    local debs=$CACHE_DIR/debs want=() p dl
    mkdir -p "$debs"
    for p in "$@"; do
        [ -n "$(deb_file "$p")" ] && continue
        want+=("$p=$KVERSION")
    done
    [ ${#want[@]} -eq 0 ] && return 0
    log "downloading ${want[*]}"
    if [ "$ARCH" = amd64 ] && [ "$SERIES" = newest ]; then
        dl=$CHROOT_DIR/var/tmp/harness-dl
        rm -rf "$dl" && mkdir -p "$dl" && chmod 777 "$dl"
        in_chroot sh -c "cd /var/tmp/harness-dl && apt-get -q download ${want[*]}" >&2 || {
            FORCE=1 chroot_apt_update
            in_chroot sh -c "cd /var/tmp/harness-dl && apt-get -q download ${want[*]}" >&2 ||
                die "apt-get download ${want[*]} failed (in the trixie chroot)"
        }
    else
        dl=$(mktemp -d "$CACHE_DIR/dl.XXXXXX")
        chmod 755 "$dl"
        chown _apt "$dl" 2>/dev/null || true   # apt downloads as _apt
        (cd "$dl" && apt_q apt-get -q download "${want[@]}") >&2 || {
            apt_refresh 1
            (cd "$dl" && apt_q apt-get -q download "${want[@]}") >&2 ||
                die "apt-get download ${want[*]} failed"
        }
    fi
    mv "$dl"/*.deb "$debs/"
    rm -rf "$dl"
}

# The cached .deb of package $1 at $KVERSION (apt encodes ':' as %3a).
deb_file() {
    local f
    for f in "$CACHE_DIR/debs/${1}_"*.deb; do
        [ -e "$f" ] || continue
        [ "$(dpkg-deb -f "$f" Version)" = "$KVERSION" ] && { echo "$f"; return 0; }
    done
    return 0
}

# The stock drivers the tests use as peers, kept from the kernel package
# with everything they depend on: $kdir/stock/<module>.ko (decompressed)
# and $kdir/stock/<peer>.order, the files to insmod for <peer>, in order.
STOCK_PEERS="vgem vivid"
STOCK_LAYOUT=stock-v1      # bump when the kept set or its layout changes

keep_stock_modules() {
    local kdir=$1 base mroot peer f name
    for base in "$KROOT" "$KROOT/usr"; do
        [ -d "$base/lib/modules/$KREL/kernel" ] && break
    done
    mroot=$base/lib/modules/$KREL
    [ -d "$mroot/kernel" ] || die "no stock module tree for $KREL in its packages"
    depmod -b "$base" "$KREL" || die "depmod of the stock $KREL modules failed"
    mkdir -p "$kdir/stock"
    for peer in $STOCK_PEERS; do
        : >"$kdir/stock/$peer.order"
        modprobe -d "$base" -S "$KREL" --show-depends "$peer" |
            sed -n 's/^insmod \([^ ]*\).*/\1/p' >"$kdir/stock/$peer.files" ||
            die "modprobe --show-depends $peer failed for $KREL"
        while read -r f; do
            name=$(basename "$f")
            case "$name" in
                *.xz) xz -dc "$f" >"$kdir/stock/${name%.xz}"; name=${name%.xz} ;;
                *.zst) zstd -qdc "$f" >"$kdir/stock/${name%.zst}"; name=${name%.zst} ;;
                *) cp "$f" "$kdir/stock/$name" ;;
            esac
            echo "$name" >>"$kdir/stock/$peer.order"
        done <"$kdir/stock/$peer.files"
        rm -f "$kdir/stock/$peer.files"
        [ -s "$kdir/stock/$peer.order" ] || die "no $peer module in the $KREL packages"
    done
}

unpack_kernel() {
    local kdir=$CACHE_DIR/kernels/$KREL p f
    KROOT=$kdir/root
    if [ "$(cat "$kdir/.version" 2>/dev/null)" = "$KVERSION $STOCK_LAYOUT" ]; then
        return 0
    fi
    # shellcheck disable=SC2046
    download_debs $(image_payload_packages)
    log "unpacking $KREL ($KVERSION)"
    rm -rf "$kdir"
    mkdir -p "$KROOT"
    for p in $(image_payload_packages); do
        f=$(deb_file "$p")
        [ -n "$f" ] || die "downloaded .deb for $p $KVERSION not found in $CACHE_DIR/debs"
        dpkg-deb -x "$f" "$KROOT"
    done
    keep_stock_modules "$kdir"
    # Only vmlinuz, config and the kept modules are used: drop the rest of
    # the stock module tree (~400 MB).
    rm -rf "$KROOT/lib/modules/$KREL/kernel" "$KROOT/usr/lib/modules/$KREL/kernel"
    echo "$KVERSION $STOCK_LAYOUT" >"$kdir/.version"
}

find_in_kernel() {   # first file matching one of the given paths (globs)
    local g f
    for g in "$@"; do
        for f in $KROOT/$g; do
            [ -f "$f" ] && { echo "$f"; return 0; }
        done
    done
    return 1
}

# ---- headers ---------------------------------------------------------------

install_headers() {
    local hdr=linux-headers-$KREL
    if [ "$ARCH" != amd64 ]; then
        install_cross_headers
    elif [ "$SERIES" = newest ]; then
        if ! pkg_installed "$hdr" "$KVERSION" "$CHROOT_DIR/var/lib/dpkg"; then
            log "installing $hdr $KVERSION in the trixie chroot"
            in_chroot apt-get "${APT_OPTS[@]}" -t trixie-backports install \
                --no-install-recommends "$hdr=$KVERSION" >"$CACHE_DIR/chroot-headers.log" 2>&1 ||
                { tail -30 "$CACHE_DIR/chroot-headers.log" >&2; die "installing $hdr in the chroot failed"; }
        fi
        KDIR=/usr/src/linux-headers-$KREL
        [ -f "$CHROOT_DIR$KDIR/Makefile" ] || die "no $KDIR/Makefile in the chroot"
    else
        host_apt_install "$hdr=$KVERSION"
        KDIR=/usr/src/linux-headers-$KREL
        [ -f "$KDIR/Makefile" ] || die "no $KDIR/Makefile on the host"
    fi
}

# Another architecture's headers: its linux-headers-<rel> unpacked (no
# dpkg) into /usr/src of the builder (the host; the trixie chroot for
# newest-arm64). The -common part and the linux-kbuild host tools it points
# at are the builder's own packages of the same version, installed by apt:
# the amd64 build of kbuild's tools cross-builds for any architecture.
install_cross_headers() {
    local hdr=linux-headers-$KREL root='' dep deps=() f tmp
    [ "$SERIES" = newest ] && root=$CHROOT_DIR
    KDIR=/usr/src/linux-headers-$KREL
    [ "$(cat "$root$KDIR/.harness-version" 2>/dev/null)" = "$KVERSION" ] && return 0
    for dep in $(depends_of "$hdr"); do
        case "$dep" in
            linux-headers-*-common*|linux-kbuild-*) deps+=("$dep=$KVERSION") ;;
        esac
    done
    [ ${#deps[@]} -gt 0 ] || die "$hdr depends on no -common or linux-kbuild package"
    if [ -n "$root" ]; then
        log "installing ${deps[*]} in the trixie chroot"
        in_chroot apt-get "${APT_OPTS[@]}" -t trixie-backports install \
            --no-install-recommends "${deps[@]}" >"$CACHE_DIR/chroot-headers.log" 2>&1 ||
            { tail -30 "$CACHE_DIR/chroot-headers.log" >&2; die "installing ${deps[*]} in the chroot failed"; }
    else
        host_apt_install "${deps[@]}"
    fi
    download_debs "$hdr"
    f=$(deb_file "$hdr")
    [ -n "$f" ] || die "downloaded .deb for $hdr $KVERSION not found in $CACHE_DIR/debs"
    tmp=$(mktemp -d "$CACHE_DIR/hdr.XXXXXX")
    dpkg-deb -x "$f" "$tmp"
    [ -f "$tmp$KDIR/Makefile" ] || { rm -rf "$tmp"; die "no $KDIR/Makefile in $hdr"; }
    log "unpacking $hdr ($KVERSION) into ${root:-host:}$KDIR"
    rm -rf "$root$KDIR"
    mv "$tmp$KDIR" "$root$KDIR"
    rm -rf "$tmp"
    echo "$KVERSION" >"$root$KDIR/.harness-version"
}

# ---- family check ----------------------------------------------------------

# The series of release $1: 6.1.0-57-amd64 -> 6.1, 7.3.4+deb13-amd64 -> 7.3.
series_of() { echo "$1" | sed -n 's/^\([0-9]*\.[0-9]*\)[.-].*/\1/p'; }

check_series() {
    local series want
    series=$(series_of "$KREL")
    case "$SERIES" in
        6.1|6.12|debug)
            want=$SERIES
            [ "$SERIES" = debug ] && want=6.12
            [ "$series" = "$want" ] ||
                die "$FAMILY resolved to $KREL, a $series kernel, not $want.x" ;;
        newest)
            [ -n "$series" ] && [ "$(printf '6.12\n%s\n' "$series" | sort -V | tail -n1)" != 6.12 ] ||
                die "newest resolved to $KREL, not a series newer than 6.12" ;;
    esac
    case "$KREL" in
        *-rt-*) [ "$FLAVOUR" = rt ] || die "$FAMILY resolved to $KREL, an RT kernel" ;;
        *) [ "$FLAVOUR" != rt ] || die "$FAMILY resolved to $KREL, not an RT kernel" ;;
    esac
}

# ---- the debug kernel --------------------------------------------------------

# Built by debug-kernel.sh; its modules_install tree stands in for the image
# package's (keep_stock_modules), its build tree is KDIR.
debug_kernel() {
    local dir kdir
    dir=$("$HARNESS_DIR/debug-kernel.sh" | tail -n 1)
    KREL=$(cat "$dir/out/include/config/kernel.release")
    KVERSION=$(basename "$dir")
    KROOT=$dir/root
    kdir=$CACHE_DIR/kernels/$KREL
    if [ "$(cat "$kdir/.version" 2>/dev/null)" != "$KVERSION $STOCK_LAYOUT" ]; then
        rm -rf "$kdir"
        mkdir -p "$kdir"
        keep_stock_modules "$kdir"
        echo "$KVERSION $STOCK_LAYOUT" >"$kdir/.version"
    fi
    VMLINUZ=$dir/out/arch/x86/boot/bzImage
    KCONFIG=$dir/out/.config
    KDIR=$dir/out
}

# ---- main ------------------------------------------------------------------

write_env() {
    local f
    f=$(kernel_env_file "$FAMILY")
    mkdir -p "$(dirname "$f")"
    {
        printf 'KFAMILY=%q\n' "$FAMILY"
        printf 'KREL=%q\n' "$KREL"
        printf 'KVERSION=%q\n' "$KVERSION"
        printf 'VMLINUZ=%q\n' "$VMLINUZ"
        printf 'KCONFIG=%q\n' "$KCONFIG"
        printf 'KDIR=%q\n' "$KDIR"
        printf 'KARCH=%q\n' "$ARCH"
        printf 'BUILDER=%q\n' "$([ "$SERIES" = newest ] && echo chroot || echo host)"
    } >"$f"
}

main() {
    require_root
    if [ "$FAMILY" = debug ]; then
        "$HARNESS_DIR/deps.sh"
        debug_kernel
        check_series
        write_env
        return 0
    fi
    if [ "$SERIES" = newest ]; then
        "$HARNESS_DIR/deps.sh" chroot      # builds happen in the trixie chroot
    else
        "$HARNESS_DIR/deps.sh"
    fi
    resolve
    log "$FAMILY: $IMAGE_PKG $KVERSION (release $KREL)"
    check_series
    with_lock "kernel-$KREL" unpack_kernel
    KROOT=$CACHE_DIR/kernels/$KREL/root
    VMLINUZ=$(find_in_kernel "boot/vmlinuz-$KREL" "usr/lib/modules/$KREL/vmlinuz*" \
        "lib/modules/$KREL/vmlinuz*") || die "no vmlinuz in the $KREL packages"
    KCONFIG=$(find_in_kernel "boot/config-$KREL" "usr/lib/modules/$KREL/config" \
        "lib/modules/$KREL/config") || die "no kernel config in the $KREL packages"
    with_lock headers install_headers
    KDIR=/usr/src/linux-headers-$KREL
    write_env
}

main; exit
