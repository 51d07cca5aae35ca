#!/usr/bin/env bash
# The Debian packages on arm64, made and installed on an amd64 machine as
# one builds an image for an arm64 board there:
#
#   1. dmabuf-core-tools cross-builds (dpkg-buildpackage -a arm64 -B) in a
#      Debian 12 system that has arm64 as a foreign architecture and
#      crossbuild-essential-arm64; lintian is clean on the .changes; the
#      package holds aarch64 programs, dynamically linked;
#   2. the same system, given the 6.1-arm64 and 6.12-arm64 kernels' headers
#      (each arm64 package unpacked beside the amd64 linux-kbuild and
#      -common it uses: an arm64 linux-headers package would pull in the
#      arm64 compiler in place of the machine's), installs
#      dmabuf-core-dkms, dmabuf-example-dkms and the arm64 dmabuf-core-tools
#      in one apt-get install: DKMS cross-builds both modules packages for
#      both kernels, dmabuf-core first. 6.12's headers name the cross
#      compiler themselves; 6.1's do not, and only our Makefiles (which see
#      arm64 headers on an amd64 machine) keep it from the machine's gcc;
#   3. the stock 6.12 arm64 kernel boots under qemu-system-aarch64 with
#      those modules and the packaged arm64 programs, and passes the DKMS
#      guest's checks (tests/guest/run-dkms.sh, as upgrade.sh's amd64 one).
#
#   tests/harness/package-arm64.sh    (after package.sh, which makes the
#                                      architecture-independent .debs)
#
# The arm64 .debs end up in build/packages-arm64/ (build/packages/ is what
# the amd64 checks install). The system is a copy of upgrade.sh's base with
# the cross toolchain added, made once ($CACHE_DIR/bookworm-cross-arm64) and
# copied afresh for every run. Prints PASS:/FAIL: lines and a last line
# "package-arm64: N passed, M failed"; exits non-zero on any failure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

FAMILY=6.12-arm64                       # booted
OTHER_FAMILY=6.1-arm64                  # built for too
# What make_cross_base puts in the cached system; a change of it, or a new
# base system, makes it again.
CROSS_LAYOUT=cross-arm64-v1
CROSS_BASE=$CACHE_DIR/bookworm-cross-arm64
ROOT=$BUILD_DIR/cross-arm64-root
OUT_DIR=$BUILD_DIR/packages-arm64
DKMS_BUILD=$BUILD_DIR/dkms-arm64        # BUILD_DIR of the guest boot
ROOT_LOG=$LOG_DIR/package-arm64-apt.log # what root_install says
CHECK_NAME=package-arm64

# The base system with arm64 as a foreign architecture and what a cross
# build of the tools needs, made once and again only when CROSS_LAYOUT or
# the base system changes (under `with_lock bookworm-cross-arm64`).
cross_stamp() { echo "$CROSS_LAYOUT $(stat -c %Y "$BOOKWORM_BASE/.done")"; }

make_cross_base() {
    local ROOT=$CROSS_BASE ROOT_LOG=$CACHE_DIR/bookworm-cross-arm64.log
    [ "$(cat "$CROSS_BASE/.done" 2>/dev/null)" = "$(cross_stamp)" ] && return 0
    log "package-arm64: the cross-building system in $CROSS_BASE (once)"
    umount_under "$CROSS_BASE"
    rm -rf "$CROSS_BASE"
    cp -a "$BOOKWORM_BASE" "$CROSS_BASE"
    rm -f "$CROSS_BASE/.done"
    : >"$ROOT_LOG"
    mount -t proc proc "$CROSS_BASE/proc"
    if ! { in_root dpkg --add-architecture arm64 &&
           in_root apt-get "${APT_OPTS[@]}" update >>"$ROOT_LOG" 2>&1 &&
           root_install build-essential crossbuild-essential-arm64 debhelper dh-dkms \
               libkmod-dev:arm64; }; then
        umount "$CROSS_BASE/proc"
        tail -n 30 "$ROOT_LOG" >&2
        die "the cross-building system failed (log: $ROOT_LOG)"
    fi
    umount "$CROSS_BASE/proc"
    cross_stamp >"$CROSS_BASE/.done"
}

# A fresh copy of the cross-building system in $ROOT (made first when it
# is missing or stale; under its lock, so that no other run remakes it
# while it is copied), /proc mounted.
fresh_cross_root() {
    umount_under "$ROOT"
    rm -rf "$ROOT"
    make_cross_base
    cp -a "$CROSS_BASE" "$ROOT"
    rm -f "$ROOT/.done"
    mount -t proc proc "$ROOT/proc"
}

# dpkg-buildpackage -a arm64 -B of a copy of the tree, in $ROOT; the .debs
# and the .changes land in $ROOT/build.
cross_build_tools() {
    local src
    src=$ROOT/build/dmabuf-core-$(cat "$REPO_ROOT/VERSION")
    copy_source_tree "$src"
    in_root sh -c "cd /build/$(basename "$src") && dpkg-buildpackage -a arm64 -B -us -uc" \
        >"$LOG_DIR/package-arm64-build.log" 2>&1
}

# The arm64 tools package holds aarch64 programs only, dynamically linked,
# the same list as the amd64 one.
check_arm64_tools() {   # check_arm64_tools DEB
    local x=$ROOT/build/tools-x f bad=()
    dpkg-deb -x "$1" "$x"
    for f in usr/bin/dmabuf-demo usr/bin/dmabuf-ctl \
             $(sed -n 's|^\(t_[a-z0-9_]*\)$|usr/libexec/dmabuf-core/\1|p' \
                   "$REPO_ROOT/debian/dmabuf-core-tools.programs"); do
        [ -x "$x/$f" ] || { bad+=("missing $f"); continue; }
        readelf -h "$x/$f" | grep -q 'Machine:.*AArch64' || bad+=("$f is not aarch64")
        readelf -d "$x/$f" | grep -q NEEDED || bad+=("$f is static")
    done
    [ ${#bad[@]} -eq 0 ] || { printf '  %s\n' "${bad[@]}"; return 1; }
}

# The arm64 headers package of release $1 at version $2: kernels.sh's copy
# in $CACHE_DIR/debs when it made one (it does not when the headers were
# unpacked before), or one the system's own apt downloads (it knows arm64)
# into $ROOT/tmp. Prints its path.
cross_headers_deb() {   # cross_headers_deb RELEASE VERSION
    local pkg=linux-headers-$1 ver=$2 f
    f=$CACHE_DIR/debs/${pkg}_${ver}_arm64.deb
    [ -f "$f" ] && { echo "$f"; return 0; }
    f=$ROOT/tmp/${pkg}_${ver}_arm64.deb
    if ! in_root sh -c "cd /tmp && apt-get -q download $pkg:arm64=$ver" >&2; then
        in_root apt-get "${APT_OPTS[@]}" update >&2 &&
            in_root sh -c "cd /tmp && apt-get -q download $pkg:arm64=$ver" >&2 || return 1
    fi
    [ -f "$f" ] || { echo "apt-get download $pkg:arm64=$ver left no $f" >&2; return 1; }
    echo "$f"
}

# The kernel's headers as a cross build finds them: the arm64 package's
# tree in /usr/src and /lib/modules/<release>/build (unpacked elsewhere
# first: its ./lib would replace the system's /lib link), and the amd64
# linux-kbuild and -common packages of its version, which it uses.
install_cross_headers() {   # install_cross_headers RELEASE VERSION
    local krel=$1 ver=$2 deb tmp dep deps=()
    deb=$(cross_headers_deb "$krel" "$ver") || return 1
    for dep in $(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed -n 's/^ *\(linux-[a-z0-9.+-]*\).*/\1/p'); do
        case $dep in linux-headers-*-common*|linux-kbuild-*) deps+=("$dep=$ver") ;; esac
    done
    [ ${#deps[@]} -eq 2 ] || { echo "$deb: no -common and linux-kbuild in its Depends"; return 1; }
    root_install "${deps[@]}" || return 1
    tmp=$(mktemp -d "$ROOT/tmp/headers.XXXXXX") || return 1
    dpkg-deb -x "$deb" "$tmp" &&
        mv "$tmp/usr/src/linux-headers-$krel" "$ROOT/usr/src/" &&
        mkdir -p "$ROOT/lib/modules/$krel" &&
        ln -s "/usr/src/linux-headers-$krel" "$ROOT/lib/modules/$krel/build" || return 1
    rm -rf "$tmp"
}

# DKMS installed dmabuf-core's three modules and the example for release
# $1, each an aarch64 module whose vermagic names that release.
cross_installed_for() {
    local krel=$1 ko n=0 f
    for ko in $(dkms_modules "$krel" 'dmabuf_*'); do
        f=$ko
        case $ko in *.xz) f=$ROOT/tmp/check.ko; xz -dc "$ko" >"$f" ;; esac
        readelf -h "$f" | grep -q 'Machine:.*AArch64' || return 1
        [ "$(modinfo -F vermagic "$f" | cut -d' ' -f1)" = "$krel" ] || return 1
        n=$((n + 1))
    done
    [ "$n" -eq 4 ] &&
        in_root dkms status dmabuf-core -k "$krel" | grep -q installed &&
        in_root dkms status dmabuf-example -k "$krel" | grep -q installed
}

main() {
    local ver krel kver orel deb example_deb tools_deb changes out
    require_root
    mkdir -p "$LOG_DIR"
    : >"$ROOT_LOG"
    ver=$(cd "$REPO_ROOT" && dpkg-parsechangelog -S Version)
    deb=$BUILD_DIR/packages/dmabuf-core-dkms_${ver}_all.deb
    example_deb=$BUILD_DIR/packages/dmabuf-example-dkms_${ver}_all.deb
    if [ ! -f "$deb" ] || [ ! -f "$example_deb" ]; then
        die "no dmabuf-core-dkms or dmabuf-example-dkms $ver in build/packages: run tests/harness/package.sh first"
    fi
    "$HARNESS_DIR/deps.sh" >/dev/null
    "$HARNESS_DIR/kernels.sh" 6.1 >/dev/null    # make_base downloads both kernels' headers
    "$HARNESS_DIR/kernels.sh" 6.12 >/dev/null
    "$HARNESS_DIR/kernels.sh" "$FAMILY" >/dev/null
    "$HARNESS_DIR/kernels.sh" "$OTHER_FAMILY" >/dev/null
    krel=$(kernel_release "$FAMILY")
    kver=$(family_version "$FAMILY")
    orel=$(kernel_release "$OTHER_FAMILY")
    with_lock bookworm-base make_base
    trap 'umount_under "$ROOT"' EXIT
    with_lock bookworm-cross-arm64 fresh_cross_root

    log "package-arm64: dpkg-buildpackage -a arm64 -B in the cross-building system"
    if cross_build_tools; then
        pass "dmabuf-core-tools cross-builds for arm64 (dpkg-buildpackage -a arm64 -B)"
    else
        tail -n 30 "$LOG_DIR/package-arm64-build.log"
        fail "dmabuf-core-tools does not cross-build for arm64 (log above)"
        summary
        return 1
    fi
    tools_deb=$ROOT/build/dmabuf-core-tools_${ver}_arm64.deb
    changes=$ROOT/build/dmabuf-core_${ver}_arm64.changes
    rm -rf "$OUT_DIR"
    mkdir -p "$OUT_DIR"
    cp "$tools_deb" "$changes" "$OUT_DIR/"
    # TMPDIR: lintian leaves mldbm-elf-* files behind in it.
    if out=$(cd "$ROOT/build" && TMPDIR=$ROOT/tmp lintian -I --fail-on error,warning \
            "$(basename "$changes")" 2>&1); then
        pass "lintian clean (no errors or warnings) on the arm64 .changes"
    else
        printf '%s\n' "$out"
        fail "lintian reports errors or warnings on the arm64 .changes (output above)"
    fi
    expect "dmabuf-core-tools (arm64) holds dmabuf-demo, dmabuf-ctl and the listed test programs, aarch64, dynamically linked" \
        check_arm64_tools "$tools_deb"

    log "package-arm64: the $orel and $krel headers, then dmabuf-core-dkms, dmabuf-example-dkms and the arm64 tools"
    if ! install_cross_headers "$orel" "$(family_version "$OTHER_FAMILY")" >>"$ROOT_LOG" 2>&1 ||
       ! install_cross_headers "$krel" "$kver" >>"$ROOT_LOG" 2>&1; then
        fail "installing the $orel and $krel headers (log: $ROOT_LOG)"
        summary
        return 1
    fi
    cp "$deb" "$example_deb" "$tools_deb" "$ROOT/tmp/"
    if root_install "/tmp/$(basename "$deb")" "/tmp/$(basename "$example_deb")" \
            "/tmp/$(basename "$tools_deb")"; then
        pass "dmabuf-core-dkms, dmabuf-example-dkms and dmabuf-core-tools (arm64) install in one apt-get install"
    else
        fail "dmabuf-core-dkms, dmabuf-example-dkms and dmabuf-core-tools (arm64) install (log: $ROOT_LOG)"
    fi
    expect "DKMS cross-built and installed dmabuf-core and the example for $orel (headers that name no cross compiler): aarch64 modules of that release" \
        cross_installed_for "$orel"
    expect "DKMS cross-built and installed dmabuf-core and the example for $krel: aarch64 modules of that release" \
        cross_installed_for "$krel"

    stage_dkms_guest "$FAMILY" "$DKMS_BUILD" ||
        fail "dmabuf-core-tools (arm64) installed no /usr/bin/dmabuf-demo and dmabuf-ctl"
    if boot_dkms_guest "$FAMILY" dkms "$DKMS_BUILD"; then
        pass "$FAMILY kernel boots the DKMS-built modules, modprobe loads them, the packaged arm64 programs pass"
    else
        fail "$FAMILY kernel with the DKMS-built modules (console: $DKMS_BUILD/logs/$FAMILY-dkms.log)"
    fi

    umount_under "$ROOT"
    rm -rf "$ROOT"
    trap - EXIT
    summary
}

main "$@"; exit
