# shellcheck shell=bash
# shellcheck disable=SC2034  # the variables here are used by the scripts
# Common helpers for the QEMU test harness. Sourced by every harness script;
# it only defines variables and functions.
#
# Environment knobs (all optional):
#   CACHE_DIR     downloaded .debs, unpacked kernels, the trixie chroot
#                 (default /var/cache/dmabuf-core)
#   BUILD_DIR     per-kernel module builds, initramfs images, logs
#                 (default <repo>/build)
#   SRC_DIR       tree holding Kbuild, src/, include/, tests/kmod/
#                 (default: the repo; point it elsewhere to test the harness)
#   DEBIAN_MIRROR mirror used for the trixie chroot (default deb.debian.org)
#   APT_MAX_AGE   run `apt-get update` when our last one is older than this
#                 many seconds (default 86400)

HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HARNESS_DIR/../.." && pwd)
CACHE_DIR=${CACHE_DIR:-/var/cache/dmabuf-core}
BUILD_DIR=${BUILD_DIR:-$REPO_ROOT/build}
SRC_DIR=${SRC_DIR:-$REPO_ROOT}
LOG_DIR=$BUILD_DIR/logs
CHROOT_DIR=$CACHE_DIR/trixie-chroot
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
APT_MAX_AGE=${APT_MAX_AGE:-86400}
# The stock targets: Debian's amd64 kernels, the same three series for
# arm64 (cross-built here, booted under qemu-system-aarch64), and the
# PREEMPT_RT flavours of the two bookworm series on amd64.
AMD64_FAMILIES="6.1 6.12 newest"
ARM64_FAMILIES="6.1-arm64 6.12-arm64 newest-arm64"
RT_FAMILIES="6.1-rt 6.12-rt"
ALL_FAMILIES="$AMD64_FAMILIES $ARM64_FAMILIES $RT_FAMILIES"
# The PREEMPT_RT flavours of the bookworm series on arm64: they pass, but
# run only when named (KERNELS=...), not in `make check`'s set: their two
# tests boots would take CI past its 60 minutes.
RT_ARM64_FAMILIES="6.1-rt-arm64 6.12-rt-arm64"
# debug: our own build of Debian's linux-source-6.12 (debug-kernel.sh), for
# `make check-debug`; not one of the stock targets.
KNOWN_FAMILIES="$ALL_FAMILIES $RT_ARM64_FAMILIES debug"

export DEBIAN_FRONTEND=noninteractive
# Wait for a dpkg/apt lock held by someone else instead of failing at once.
APT_OPTS=(-q -y -o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0)

# ---- messages --------------------------------------------------------------

log()  { printf '==> %s\n' "$*" >&2; }
warn() { printf 'WARN(harness): %s\n' "$*" >&2; }
die()  { printf 'ERROR(harness): %s\n' "$*" >&2; exit 1; }

# Time a step: `timed LABEL cmd...` prints "LABEL: Ns" after cmd succeeds.
timed() {
    local label=$1 start rc=0
    shift
    start=$(date +%s)
    "$@" || rc=$?
    log "$label: $(($(date +%s) - start))s"
    return "$rc"
}

require_root() {
    [ "$(id -u)" -eq 0 ] || die "must run as root (apt-get, chroot, dpkg -x)"
}

check_family() {
    case " $KNOWN_FAMILIES " in
        *" ${1:-} "*) [ -n "${1:-}" ] ;;
        *) die "unknown kernel family '${1:-}' (expected one of: $KNOWN_FAMILIES)" ;;
    esac
}

# A family is SERIES[-rt][-arm64]: its Debian architecture (amd64, arm64),
# its flavour ("rt" for PREEMPT_RT, else empty) and its series (6.1, 6.12,
# newest, debug).
family_arch() { case "$1" in *-arm64) echo arm64 ;; *) echo amd64 ;; esac; }
family_flavour() { case "$1" in *-rt|*-rt-arm64) echo rt ;; esac; true; }
family_series() { local s=${1%-arm64}; echo "${s%-rt}"; }

# Cross-building for arm64: the kbuild arguments and the userspace compiler.
CROSS_ARM64=aarch64-linux-gnu-
kbuild_arch_args() {   # kbuild_arch_args ARCH: ARCH= and CROSS_COMPILE= for make
    [ "$1" = arm64 ] && echo "ARCH=arm64 CROSS_COMPILE=$CROSS_ARM64"
    true
}

# Test programs per architecture: tests/bin (amd64, the host's) or
# tests/bin-arm64 (cross-built against sysroot.sh's arm64 userland).
tests_bin_of() { [ "$1" = arm64 ] && echo "$REPO_ROOT/tests/bin-arm64" || echo "$REPO_ROOT/tests/bin"; }

# The architectures of the families given, once each.
archs_of() { local f; for f in "$@"; do family_arch "$f"; done | sort -u; }

# Build the guest programs of architecture $1 into tests_bin_of $1
# (tests/Makefile), and with "kselftest" as $2 the kernel's dmabuf-heaps
# kselftest too. arm64 first makes its userland (sysroot.sh).
build_guest_programs() {
    local arch=$1 bin sysroot ksft cc=gcc
    local -a args=()
    bin=$(tests_bin_of "$arch")
    if [ "$arch" != amd64 ]; then
        sysroot=$(with_lock "sysroot-$arch" "$HARNESS_DIR/sysroot.sh" "$arch") || return 1
        cc=${CROSS_ARM64}gcc
        args=(CC="$cc" BIN="$bin" SYSROOT="$sysroot")
    fi
    # kselftest_harness.h, for the programs written on it.
    ksft=$(with_lock ksft-harness unpack_linux_source ksft-harness \
        '*/tools/testing/selftests/kselftest.h' \
        '*/tools/testing/selftests/kselftest_harness.h') || return 1
    args+=(KSELFTEST="$ksft/tools/testing/selftests")
    make -C "$REPO_ROOT/tests" -j2 "${args[@]}" >/dev/null ||
        make -C "$REPO_ROOT/tests" "${args[@]}" || return 1
    [ "${2:-}" != kselftest ] || "$HARNESS_DIR/kselftest.sh" "$bin" "$cc"
}

# Per-family description of the resolved kernel, written by kernels.sh:
# KREL, KFAMILY, KVERSION, VMLINUZ, KCONFIG, KDIR, BUILDER (host|chroot).
kernel_env_file() { echo "$BUILD_DIR/kernels/$1.env"; }

kernel_release() {   # the resolved release of family $1, e.g. 6.1.0-56-amd64
    sed -n 's/^KREL=//p' "$(kernel_env_file "$1")"
}

load_kernel_env() {
    local f
    f=$(kernel_env_file "$1")
    [ -r "$f" ] || die "$f missing: run tests/harness/kernels.sh $1 first"
    # shellcheck disable=SC1090
    . "$f"
}

# Serialise access to the shared cache (two `make check` at once, e.g. by two
# engineers on one machine): `with_lock NAME cmd...`.
with_lock() {
    local name=$1
    shift
    mkdir -p "$CACHE_DIR/locks"
    (
        flock 9
        "$@"
    ) 9>"$CACHE_DIR/locks/$name.lock"
}

# ---- apt on the host -------------------------------------------------------

# The host's apt runs with the harness's own source list (bookworm,
# bookworm-updates and bookworm-security, main) and package lists under
# $CACHE_DIR/host-apt: which kernels resolve, and what installs, never
# depends on what /etc/apt/sources.list* happen to hold. `host_apt CMD
# ARGS...` runs apt-get or apt-cache that way.
HOST_APT_DIR=$CACHE_DIR/host-apt
HOST_APT_CONF=(-o "Dir::Etc::SourceList=$HOST_APT_DIR/sources.list"
    -o "Dir::Etc::SourceParts=$HOST_APT_DIR/sources.list.d"
    -o "Dir::State::Lists=$HOST_APT_DIR/lists"
    -o "Dir::Cache::pkgcache=$HOST_APT_DIR/pkgcache.bin"
    -o "Dir::Cache::srcpkgcache=$HOST_APT_DIR/srcpkgcache.bin")
HOST_APT_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

host_apt() {
    local cmd=$1
    shift
    "$cmd" "${HOST_APT_CONF[@]}" "$@"
}

# Write the harness's source list; prints "changed" when it did.
host_apt_sources() {
    local want
    want="# Written by tests/harness/lib.sh: the sources the harness needs.
deb [signed-by=$HOST_APT_KEYRING] $DEBIAN_MIRROR bookworm main
deb [signed-by=$HOST_APT_KEYRING] $DEBIAN_MIRROR bookworm-updates main
deb [signed-by=$HOST_APT_KEYRING] ${DEBIAN_MIRROR%/debian}/debian-security bookworm-security main"
    mkdir -p "$HOST_APT_DIR/lists/partial" "$HOST_APT_DIR/sources.list.d"
    if [ "$(cat "$HOST_APT_DIR/sources.list" 2>/dev/null)" != "$want" ]; then
        printf '%s\n' "$want" >"$HOST_APT_DIR/sources.list"
        echo changed
    fi
}

# `apt-get update` when we never ran it, when our last run is stale, or
# when the source list changed. FORCE=1 runs it regardless (used after a
# lookup/download failed).
host_apt_update() {
    local stamp=$HOST_APT_DIR/update.stamp now age
    mkdir -p "$CACHE_DIR"
    [ -r "$HOST_APT_KEYRING" ] ||
        die "no $HOST_APT_KEYRING (apt-get install debian-archive-keyring)"
    [ -z "$(host_apt_sources)" ] || rm -f "$stamp"
    now=$(date +%s)
    if [ "${FORCE:-0}" != 1 ] && [ -e "$stamp" ]; then
        age=$((now - $(stat -c %Y "$stamp")))
        [ "$age" -lt "$APT_MAX_AGE" ] && return 0
    fi
    log "apt-get update (host, the harness's source list $HOST_APT_DIR/sources.list)"
    host_apt apt-get "${APT_OPTS[@]}" update >"$CACHE_DIR/host-apt-update.log" 2>&1 ||
        { cat "$CACHE_DIR/host-apt-update.log" >&2; die "apt-get update failed"; }
    touch "$stamp"
}

# pkg_installed NAME [VERSION [ADMINDIR]]: is NAME installed (at exactly
# VERSION, when given and not empty)? ADMINDIR looks into another dpkg
# database, e.g. the chroot's.
pkg_installed() {
    local st
    st=$(dpkg-query --admindir="${3:-/var/lib/dpkg}" \
        -W -f='${db:Status-Status} ${Version}' "$1" 2>/dev/null) || return 1
    [ "${st%% *}" = installed ] || return 1
    [ -z "${2:-}" ] || [ "${st#* }" = "$2" ]
}

# Install the given packages (NAME or NAME=VERSION) on the host, if missing.
host_apt_install() {
    local missing=() p ver
    for p in "$@"; do
        ver=
        [[ $p == *=* ]] && ver=${p#*=}
        pkg_installed "${p%%=*}" "$ver" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    host_apt_update
    log "apt-get install ${missing[*]}"
    if ! host_apt apt-get "${APT_OPTS[@]}" install --no-install-recommends "${missing[@]}" \
            >"$CACHE_DIR/host-apt-install.log" 2>&1; then
        # Lists may predate a security upload: refresh once and retry.
        FORCE=1 host_apt_update
        host_apt apt-get "${APT_OPTS[@]}" install --no-install-recommends "${missing[@]}" ||
            die "apt-get install ${missing[*]} failed"
    fi
}

# The source tree as packaged (package.sh, autopkgtest.sh): git's tracked
# plus untracked-but-not-ignored files that exist (so that uncommitted work
# is tested too), or without git the tree minus build and VCS output.
copy_source_tree() {   # copy_source_tree DEST
    local dest=$1
    mkdir -p "$dest"
    if git -C "$REPO_ROOT" rev-parse --git-dir >/dev/null 2>&1; then
        (cd "$REPO_ROOT" &&
            git ls-files -z --cached --others --exclude-standard |
            while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done |
            tar --null -T - -cf -) | tar -xf - -C "$dest"
    else
        tar -C "$REPO_ROOT" --exclude=./build --exclude=./.git \
            --exclude=./tests/bin --exclude=./tests/bin-arm64 --exclude='*.o' --exclude='*.ko' \
            --exclude='*.cmd' --exclude='*.mod' --exclude='*.mod.c' \
            --exclude='*.symvers' --exclude='*.order' -cf - . | tar -xf - -C "$dest"
    fi
}

# ---- apt for another architecture (arm64 .debs, never installed) ----------

# `arch_apt ARCH SUITE CMD ARGS...` runs apt-get or apt-cache for packages of
# ARCH from SUITE (bookworm: with -updates and -security; trixie: with
# -updates, -security and -backports), with a configuration, source list,
# package lists and an empty dpkg status of its own under
# $CACHE_DIR/apt-ARCH-SUITE: the host's dpkg never learns the architecture.
# Only `download`, `install --download-only` and queries make sense here.
arch_apt_dir() { echo "$CACHE_DIR/apt-$1-$2"; }

arch_apt() {
    local arch=$1 suite=$2 cmd=$3 dir
    shift 3
    dir=$(arch_apt_dir "$arch" "$suite")
    "$cmd" -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch" \
        -o "Dir::State::status=$dir/status" -o "Dir::State::Lists=$dir/lists" \
        -o "Dir::Cache=$dir/cache" -o "Dir::Etc::SourceList=$dir/sources.list" \
        -o "Dir::Etc::SourceParts=$dir/none" -o "Dir::Etc::Preferences=$dir/none.pref" \
        -o "Dir::Etc::PreferencesParts=$dir/none" "$@"
}

# `apt-get update` for arch_apt ARCH SUITE, when stale (as host_apt_update).
arch_apt_update() {
    local arch=$1 suite=$2 dir want stamp now suites s sec
    dir=$(arch_apt_dir "$arch" "$suite")
    stamp=$dir/update.stamp
    case "$suite" in
        bookworm) suites="bookworm bookworm-updates" sec=bookworm-security ;;
        trixie) suites="trixie trixie-updates trixie-backports" sec=trixie-security ;;
        *) die "arch_apt_update: unknown suite '$suite'" ;;
    esac
    want="# Written by tests/harness/lib.sh: $arch packages from $suite."
    for s in $suites; do
        want+=$'\n'"deb [signed-by=$HOST_APT_KEYRING] $DEBIAN_MIRROR $s main"
    done
    want+=$'\n'"deb [signed-by=$HOST_APT_KEYRING] ${DEBIAN_MIRROR%/debian}/debian-security $sec main"
    mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/none"
    touch "$dir/status"
    if [ "$(cat "$dir/sources.list" 2>/dev/null)" != "$want" ]; then
        printf '%s\n' "$want" >"$dir/sources.list"
        rm -f "$stamp"
    fi
    now=$(date +%s)
    if [ "${FORCE:-0}" != 1 ] && [ -e "$stamp" ] &&
            [ $((now - $(stat -c %Y "$stamp"))) -lt "$APT_MAX_AGE" ]; then
        return 0
    fi
    log "apt-get update ($arch, $suite)"
    arch_apt "$arch" "$suite" apt-get "${APT_OPTS[@]}" update >"$dir/update.log" 2>&1 ||
        { cat "$dir/update.log" >&2; die "apt-get update for $arch $suite failed"; }
    touch "$stamp"
}

# ---- the trixie chroot (used to build for the newest kernel) ---------------

# Run a command inside the chroot with a clean environment and /proc mounted
# (objtool reads /proc; it fails with "read_stack_limit: fopen failed"
# otherwise). /proc is unmounted again whatever happens. Holds the "chroot"
# lock so that one run cannot unmount /proc under another one's build.
in_chroot() {
    [ -x "$CHROOT_DIR/bin/sh" ] || die "no chroot at $CHROOT_DIR"
    with_lock chroot _in_chroot_locked "$@"
}

_in_chroot_locked() {   # runs in with_lock's subshell: the traps are local
    trap 'umount "$CHROOT_DIR/proc" 2>/dev/null || umount -l "$CHROOT_DIR/proc" 2>/dev/null || true' EXIT
    trap 'exit 130' INT TERM
    mountpoint -q "$CHROOT_DIR/proc" || mount -t proc proc "$CHROOT_DIR/proc" || return 1
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
        DEBIAN_FRONTEND=noninteractive chroot "$CHROOT_DIR" "$@"
}

# Unmount whatever is mounted at or below directory $1 (deepest first), e.g.
# what an interrupted debootstrap or build left in a chroot.
umount_under() {
    local dir mnt
    dir=$(realpath -m "$1")
    awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts |
        sort -r | while read -r mnt; do
            umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
        done
}

chroot_apt_update() {
    local stamp=$CHROOT_DIR/.harness-apt-update.stamp now age
    now=$(date +%s)
    if [ "${FORCE:-0}" != 1 ] && [ -e "$stamp" ]; then
        age=$((now - $(stat -c %Y "$stamp")))
        [ "$age" -lt "$APT_MAX_AGE" ] && return 0
    fi
    log "apt-get update (trixie chroot)"
    in_chroot apt-get "${APT_OPTS[@]}" update >"$CACHE_DIR/chroot-apt-update.log" 2>&1 ||
        { cat "$CACHE_DIR/chroot-apt-update.log" >&2; die "apt-get update in chroot failed"; }
    touch "$stamp"
}

# Unpack the files matching the tar wildcards $2... from Debian's newest
# linux-source-* package into $CACHE_DIR/$1/<package>-<version>, once per
# version, and print that directory.
unpack_linux_source() {
    local what=$1 pkg ver dir tarball
    shift
    host_apt_update
    pkg=$(host_apt apt-cache search --names-only '^linux-source-[0-9.]+$' |
        awk '{print $1}' | sort -V | tail -n 1)
    [ -n "$pkg" ] || die "no linux-source-* package found"
    host_apt_install "$pkg" >&2
    ver=$(dpkg-query -W -f='${Version}' "$pkg")
    dir=$CACHE_DIR/$what/$pkg-$ver
    if [ ! -e "$dir/.done" ]; then
        tarball=$(dpkg -L "$pkg" | grep -E '/linux-source-[0-9.]+\.tar\.(xz|bz2|gz)$' | head -n 1)
        rm -rf "$dir"
        mkdir -p "$dir"
        tar -xf "$tarball" -C "$dir" --strip-components=1 --wildcards "$@" >&2
        touch "$dir/.done"
    fi
    echo "$dir"
}

# ---- a Debian 12 system, as a user has one (upgrade.sh, secureboot.sh) -----

# The base system, made once with debootstrap (make_base), copied afresh to
# $ROOT (set by the caller) for every run (fresh_root). Commands run in it
# with in_root; root_install's output goes to $ROOT_LOG.
BOOKWORM_BASE=$CACHE_DIR/bookworm-base

# Run a command in the per-run system, /proc mounted (DKMS and objtool).
in_root() {
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
        DEBIAN_FRONTEND=noninteractive chroot "$ROOT" "$@"
}

# Package NAME=VERSION of family $1's headers or image, pinned to the version
# of the kernel the guest boots.
headers_pkg() { echo "linux-headers-$(kernel_release "$1")=$(family_version "$1")"; }
image_pkg() { echo "linux-image-$(kernel_release "$1")=$(family_version "$1")"; }
family_version() { sed -n 's/^KVERSION=//p' "$(kernel_env_file "$1")"; }

# Install packages in the per-run system; when the base's package lists are
# too old to know them (a new kernel ABI since the base was made), refresh
# the lists and try again.
root_install() {
    in_root apt-get "${APT_OPTS[@]}" install --no-install-recommends "$@" \
        >>"$ROOT_LOG" 2>&1 && return 0
    in_root apt-get "${APT_OPTS[@]}" update >>"$ROOT_LOG" 2>&1 &&
        in_root apt-get "${APT_OPTS[@]}" install --no-install-recommends "$@" \
            >>"$ROOT_LOG" 2>&1
}

# The base system, made once (under `with_lock bookworm-base`): dkms, its
# compilers, and the headers of both kernels downloaded (not installed) so
# that every run installs them offline. Needs kernels.sh 6.1 and 6.12.
make_base() {
    local BASE=$BOOKWORM_BASE ROOT=$BOOKWORM_BASE
    [ -e "$BASE/.done" ] && return 0
    host_apt_install debootstrap
    log "debootstrap bookworm into $BASE (once)"
    umount_under "$BASE"
    rm -rf "$BASE"
    debootstrap --variant=minbase bookworm "$BASE" "$DEBIAN_MIRROR" \
        >"$CACHE_DIR/bookworm-debootstrap.log" 2>&1 ||
        { tail -n 30 "$CACHE_DIR/bookworm-debootstrap.log" >&2; die "debootstrap bookworm failed"; }
    cat >"$BASE/etc/apt/sources.list" <<EOS
deb $DEBIAN_MIRROR bookworm main
deb $DEBIAN_MIRROR bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOS
    # Keep what apt downloads: later runs install from this cache.
    echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' \
        >"$BASE/etc/apt/apt.conf.d/99keep-debs"
    mount -t proc proc "$BASE/proc"
    in_root apt-get "${APT_OPTS[@]}" update >"$CACHE_DIR/bookworm-apt.log" 2>&1 &&
        in_root apt-get "${APT_OPTS[@]}" install --no-install-recommends \
            dkms kmod openssl ca-certificates >>"$CACHE_DIR/bookworm-apt.log" 2>&1 &&
        in_root apt-get "${APT_OPTS[@]}" install --no-install-recommends \
            linux-base initramfs-tools >>"$CACHE_DIR/bookworm-apt.log" 2>&1 &&
        in_root apt-get "${APT_OPTS[@]}" install --download-only --no-install-recommends \
            "$(headers_pkg 6.1)" "$(image_pkg 6.12)" "$(headers_pkg 6.12)" \
            >>"$CACHE_DIR/bookworm-apt.log" 2>&1 ||
        { umount "$BASE/proc"; tail -n 30 "$CACHE_DIR/bookworm-apt.log" >&2; die "bookworm base setup failed"; }
    umount "$BASE/proc"
    touch "$BASE/.done"
}

# A fresh copy of the base system in $ROOT, /proc mounted. Its
# update-initramfs is diverted to true: a kernel image installed there (the
# 6.12 headers pull theirs in) is never booted from the copy, and making
# its initramfs took minutes of a run.
fresh_root() {
    umount_under "$ROOT"
    rm -rf "$ROOT"
    cp -a "$BOOKWORM_BASE" "$ROOT"
    mount -t proc proc "$ROOT/proc"
    in_root dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs ||
        die "dpkg-divert of update-initramfs failed in $ROOT"
    ln -sf /bin/true "$ROOT/usr/sbin/update-initramfs"
}

# Modules DKMS installed in $ROOT for release $1, one path a line: all of
# ours, or those whose name matches $2.
dkms_modules() {
    find "$ROOT/lib/modules/$1/updates/dkms" -name "${2:-dmabuf*}.ko*" 2>/dev/null | sort
}

# The modules of release $1, uncompressed, in directory $2 (emptied first),
# where initramfs.sh's dkms modes take them from ($BUILD_DIR/<release>).
collect_modules() {
    local krel=$1 dir=$2 ko
    rm -rf "${dir:?}"
    mkdir -p "$dir"
    for ko in $(dkms_modules "$krel"); do
        case $ko in
        *.xz) xz -dc "$ko" >"$dir/$(basename "$ko" .xz)" ;;
        *.ko) cp "$ko" "$dir/" ;;
        *) die "unexpected module compression: $ko" ;;
        esac
    done
}

# Stage a guest boot of family $1 with the modules DKMS installed in $ROOT,
# in directory $2, which becomes that boot's BUILD_DIR: $2/<release>/*.ko,
# $2/kernels/<family>.env and $2/tests-bin, the project's test programs of
# the family's architecture and the packaged dmabuf-demo and dmabuf-ctl
# (dynamic: initramfs.sh adds their libraries). Fails when the packages
# installed no dmabuf-demo or dmabuf-ctl.
stage_dkms_guest() {
    local family=$1 dir=$2 krel arch
    krel=$(kernel_release "$family")
    arch=$(family_arch "$family")
    collect_modules "$krel" "$dir/$krel"
    mkdir -p "$dir/kernels"
    cp "$(kernel_env_file "$family")" "$dir/kernels/"
    build_guest_programs "$arch" || die "building the test programs failed"
    rm -rf "$dir/tests-bin"
    mkdir -p "$dir/tests-bin"
    cp -a "$(tests_bin_of "$arch")/." "$dir/tests-bin/"
    cp "$ROOT/usr/bin/dmabuf-demo" "$ROOT/usr/bin/dmabuf-ctl" "$dir/tests-bin/"
}

# Pack, boot and judge the guest staged in $3 (stage_dkms_guest) for family
# $1 in mode $2; prints verdict.sh's lines, indented. Succeeds when the
# guest passed with no failure and no skip.
boot_dkms_guest() {
    local family=$1 mode=$2 dir=$3 out
    BUILD_DIR=$dir TESTS_BIN=$dir/tests-bin "$HARNESS_DIR/initramfs.sh" "$family" "$mode" >/dev/null
    BUILD_DIR=$dir "$HARNESS_DIR/boot.sh" "$family" "$mode" || true
    out=$(BUILD_DIR=$dir "$HARNESS_DIR/verdict.sh" "$family" "$mode" 2>&1 || true)
    echo "$out" | sed 's/^/  guest /'
    # verdict.sh's tally line: "FAMILY: N passed, M failed, K skipped".
    echo "$out" | grep -qE "^$family: [1-9][0-9]* passed, 0 failed(, 0 skipped)?\$"
}

# A fingerprint of the source tree as package.sh copies it (git's files,
# tracked or not ignored), written beside the .debs: a check that reuses
# build/packages rebuilds them when it differs.  Outside git: a fresh value
# each time, so the packages are always rebuilt.
tree_stamp() {
    if git -C "$REPO_ROOT" rev-parse --git-dir >/dev/null 2>&1; then
        (cd "$REPO_ROOT" &&
            git ls-files -z --cached --others --exclude-standard |
            while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done |
            sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
    else
        echo "untracked-$(date +%s%N)"
    fi
}

# The PASS:/FAIL: lines of a harness check that judges by itself
# (package.sh, upgrade.sh, secureboot.sh), and its last line
# "CHECK_NAME: N passed, M failed". Set CHECK_NAME before the first.
CHECKS_PASSED=0
CHECKS_FAILED=0
pass() { echo "PASS: $CHECK_NAME: $*"; CHECKS_PASSED=$((CHECKS_PASSED + 1)); }
fail() { echo "FAIL: $CHECK_NAME: $*"; CHECKS_FAILED=$((CHECKS_FAILED + 1)); }
expect() {   # expect NAME CMD...: PASS when CMD succeeds
    local name=$1
    shift
    if "$@" >/dev/null 2>&1; then pass "$name"; else fail "$name"; fi
}
summary() {
    echo "$CHECK_NAME: $CHECKS_PASSED passed, $CHECKS_FAILED failed"
    [ "$CHECKS_FAILED" -eq 0 ]
}
