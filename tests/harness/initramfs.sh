#!/usr/bin/env bash
# Pack the guest initramfs (gzip'd newc cpio) for one kernel family.
#
#   tests/harness/initramfs.sh FAMILY [tests|nobounce|stress|demo|dkms|
#                                      secureboot|iommu-translated|iommu-identity|bench]
#
# Contents:
#   /bin/busybox + applet symlinks     (busybox-static)
#   /init                              mounts, runs /run-tests.sh (output on
#                                      ttyS1) or /run-demo.sh, then poweroff -f
#   /modules/*.ko                      build/<kernelrelease>/*.ko
#   /stock/*.ko, /stock/<peer>.order   tests and demo: stock peer drivers (vgem,
#                                      vivid) and their insmod order
#   /lib/modules/<rel>/extra/*.ko      same files (hard links) + depmod
#                                      index, for modprobe / libkmod lookups
#   /tests/*                           tests/bin/*
#   /run-tests.sh, /run-demo.sh        tests/guest/*.sh (each one required;
#                                      both iommu modes run /run-iommu.sh)
#   /checks.sh                         their PASS:/FAIL: helpers
#   dkms mode: /run-dkms.sh, and the modules only under
#   /lib/modules/<rel>/updates/dkms, where DKMS installs them (upgrade.sh)
#   secureboot mode: the same with /run-secureboot.sh, and /refuse/*.ko,
#   the modules the locked-down kernel must refuse (secureboot.sh)
#   ld.so + shared libraries           for dynamic programs (t_kmod*, udevadm),
#                                      at the paths ldd names
#   /etc/passwd, /etc/group            root, tester (1000; in video 44),
#                                      outsider (1001; not in video), nogroup
#   tests mode only: the host's udev   /bin/udevadm, /lib/systemd/systemd-udevd,
#                                      /run-udev.sh, and as the only rule file
#                                      /usr/lib/udev/rules.d/60-dmabuf-core.rules
#                                      (udev/ in the repo)
#
# arm64 families: busybox, udev and the shared libraries come from the arm64
# userland of sysroot.sh (found by the programs' ELF headers: the host's ldd
# cannot run them), the test programs from tests/bin-arm64, and the script's
# output port is ttyS0, a PCI 16550 (QEMU's virt machine has one UART).
#
# Output: build/initramfs/FAMILY-MODE.cpio.gz (path printed on stdout).
# TESTS_BIN (default tests/bin, tests/bin-arm64) and GUEST_DIR (default
# tests/guest) can point elsewhere.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

FAMILY=${1:-}
MODE=${2:-tests}
check_family "$FAMILY"
case "$MODE" in
    tests|nobounce|stress|demo|dkms|secureboot|iommu-translated|iommu-identity|bench) ;;
    *) die "mode must be tests, nobounce, stress, demo, dkms, secureboot, iommu-translated, iommu-identity or bench, not '$MODE'" ;;
esac

GUEST_DIR=${GUEST_DIR:-$REPO_ROOT/tests/guest}
SYSROOT=''    # another architecture's userland (sysroot.sh); '' for the host's

# PATH inside ROOT with its symlinks followed inside ROOT too (an absolute
# link in a sysroot points into the sysroot, not at the host's file).
root_resolve() {   # root_resolve ROOT PATH
    local root=$1 p=$2 t n=0
    while [ -L "$root$p" ] && [ "$n" -lt 40 ]; do
        t=$(readlink "$root$p")
        case "$t" in
            /*) p=$t ;;
            *) p=$(dirname "$p")/$t ;;
        esac
        p=$(realpath -m -s "$p")
        n=$((n + 1))
    done
    echo "$p"
}

busybox_binary() {
    local b
    if [ -n "$SYSROOT" ]; then
        echo "$SYSROOT$(root_resolve "$SYSROOT" /bin/busybox)"
        return 0
    fi
    for b in /bin/busybox /usr/bin/busybox; do
        # Must be the static one: the guest has no libc.
        if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then
            echo "$b"
            return 0
        fi
    done
    die "no static busybox (apt-get install busybox-static)"
}

add_busybox() {
    local root=$1 bb applet
    bb=$(busybox_binary)
    install -D -m 755 "$bb" "$root/bin/busybox"
    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin}
    # Another architecture's busybox cannot run here: the host's, of the
    # same Debian package, names the applets.
    [ -z "$SYSROOT" ] || bb=$(SYSROOT='' busybox_binary)
    for applet in $("$bb" --list-full); do
        [ "$applet" = bin/busybox ] && continue
        [ -d "$root/${applet%/*}" ] || mkdir -p "$root/${applet%/*}"
        ln -sf /bin/busybox "$root/$applet"
    done
}

add_etc() {
    local root=$1
    mkdir -p "$root/etc" "$root/root" "$root/home/tester"
    chown 1000:1000 "$root/home/tester"
    cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
tester:x:1000:1000:tester:/home/tester:/bin/sh
outsider:x:1001:1001:outsider:/nonexistent:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
    cat >"$root/etc/group" <<'EOF'
root:x:0:
video:x:44:tester
tester:x:1000:
outsider:x:1001:
nogroup:x:65534:
EOF
}

# Our .ko files under /modules, hard-linked into /lib/modules/<rel>/extra
# with a depmod index so modprobe and libkmod find them by name.
add_modules() {
    local root=$1 src=$BUILD_DIR/$KREL ko
    if [ "$MODE" = dkms ] || [ "$MODE" = secureboot ]; then   # as DKMS installs them: modprobe only
        mkdir -p "$root/lib/modules/$KREL/updates/dkms"
        cp "$src"/*.ko "$root/lib/modules/$KREL/updates/dkms/"
        depmod -b "$root" "$KREL" 2>/dev/null || die "depmod failed for $KREL"
        if [ "$MODE" = secureboot ]; then
            ls "$src"/refuse/*.ko >/dev/null 2>&1 || die "no modules to refuse in $src/refuse"
            mkdir -p "$root/refuse"
            cp "$src"/refuse/*.ko "$root/refuse/"
        fi
        return
    fi
    mkdir -p "$root/modules" "$root/lib/modules/$KREL/extra"
    shopt -s nullglob
    for ko in "$src"/*.ko; do
        cp "$ko" "$root/modules/"
        ln "$root/modules/$(basename "$ko")" "$root/lib/modules/$KREL/extra/"
    done
    shopt -u nullglob
    depmod -b "$root" "$KREL" 2>/dev/null || warn "depmod failed for $KREL (modprobe by name will not work)"
}

# The stock peer drivers kernels.sh kept (vgem, vivid and their
# dependencies): /stock/*.ko and /stock/<peer>.order, the insmod order.
add_stock_modules() {
    local root=$1 src=$CACHE_DIR/kernels/$KREL/stock
    [ -d "$src" ] || die "no stock modules in $src: run kernels.sh $FAMILY again"
    mkdir -p "$root/stock"
    cp "$src"/* "$root/stock/"
}

# The loader and every library ldd lists for a dynamic program.
add_libs() {
    local root=$1 prog=$2 lib
    if [ -n "$SYSROOT" ]; then
        add_sysroot_libs "$root" "$prog"
        return
    fi
    ldd "$prog" >/dev/null 2>&1 || return 0              # static: nothing to add
    for lib in $(ldd "$prog" | grep -oE '(^|[[:space:]])/[^[:space:]]+'); do
        [ -e "$root$lib" ] && continue
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$lib" "$root$lib"
    done
}

# Another architecture's program: its loader (PT_INTERP) and, recursively,
# its NEEDED libraries, looked up in the sysroot (the program's RUNPATH, the
# multiarch and plain lib dirs) and copied to the same paths in ROOT.
add_sysroot_libs() {   # add_sysroot_libs ROOT FILE
    local root=$1 file=$2 interp
    interp=$(readelf -lW "$file" 2>/dev/null |
        sed -n 's/.*Requesting program interpreter: \(.*\)\]$/\1/p')
    [ -n "$interp" ] || return 0                        # static
    copy_sysroot_file "$root" "$interp"
    add_needed "$root" "$file"
}

copy_sysroot_file() {   # copy_sysroot_file ROOT PATH: PATH (as the guest names it)
    local root=$1 p=$2
    [ -e "$root$p" ] && return 0
    mkdir -p "$root$(dirname "$p")"
    cp "$SYSROOT$(root_resolve "$SYSROOT" "$p")" "$root$p"
}

add_needed() {   # add_needed ROOT FILE
    local root=$1 file=$2 lib dir dirs triplet
    triplet=$(basename "$(dirname "$(root_resolve "$SYSROOT" /lib/ld-linux-aarch64.so.1)")")
    dirs="$(readelf -dW "$file" | sed -n 's/.*(RUNPATH\|RPATH).*\[\(.*\)\]$/\1/p' | tr : ' ')"
    dirs+=" /lib/$triplet /usr/lib/$triplet /lib /usr/lib"
    for lib in $(readelf -dW "$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
        for dir in $dirs ""; do
            [ -n "$dir" ] && [ -e "$SYSROOT$dir/$lib" ] && break
        done
        [ -n "$dir" ] || die "no $lib for $(basename "$file") in $SYSROOT"
        [ -e "$root$dir/$lib" ] && continue
        copy_sysroot_file "$root" "$dir/$lib"
        add_needed "$root" "$root$dir/$lib"
    done
}

# Test programs; for dynamic ones the loader and every library ldd lists.
add_tests() {
    local root=$1 prog
    mkdir -p "$root/tests"
    [ -d "$TESTS_BIN" ] || { warn "no $TESTS_BIN: no test programs in the guest"; return 0; }
    find "$TESTS_BIN" -maxdepth 1 -type f -perm -u+x -exec cp {} "$root/tests/" \;
    # Debian's trinity for the debug kernel's stress run (run-stress.sh).
    if [ "$MODE" = stress ] && [ "$FAMILY" = debug ]; then
        command -v trinity >/dev/null || die "no trinity (tests/harness/deps.sh installs it)"
        cp "$(command -v trinity)" "$root/tests/"
    fi
    for prog in "$root"/tests/*; do
        [ -f "$prog" ] || continue
        add_libs "$root" "$prog"
    done
}

# The host's udev (Debian's `udev` package) for tests/guest/run-udev.sh:
# udevadm, systemd-udevd (the same multi-call binary on bookworm), their
# libraries, and our rule as the only rule file, so that the guest shows what
# that rule alone does. No hwdb or helper programs: the rule needs none.
add_udev() {
    local root=$1 udevadm udevd
    if [ -n "$SYSROOT" ]; then     # bookworm's, for the guest's architecture
        udevadm=$SYSROOT$(root_resolve "$SYSROOT" /bin/udevadm)
        udevd=$SYSROOT$(root_resolve "$SYSROOT" /lib/systemd/systemd-udevd)
    else
        udevadm=$(command -v udevadm || true)
        for udevd in /lib/systemd/systemd-udevd /usr/lib/systemd/systemd-udevd ""; do
            [ -x "$udevd" ] && break
        done
        udevadm=$(readlink -f "$udevadm") udevd=$(readlink -f "$udevd")
    fi
    [ -x "${udevadm:-}" ] || die "no udevadm on the host (apt-get install udev)"
    [ -x "$udevd" ] || die "no systemd-udevd on the host (apt-get install udev)"
    install -D -m 755 "$udevadm" "$root/bin/udevadm"
    mkdir -p "$root/lib/systemd"
    if [ "$udevd" = "$udevadm" ]; then
        ln -s /bin/udevadm "$root/lib/systemd/systemd-udevd"
    else
        install -m 755 "$udevd" "$root/lib/systemd/systemd-udevd"
        add_libs "$root" "$udevd"
    fi
    add_libs "$root" "$udevadm"
    install -D -m 644 "$REPO_ROOT/udev/60-dmabuf-core.rules" \
        "$root/usr/lib/udev/rules.d/60-dmabuf-core.rules"
    printf 'passwd: files\ngroup: files\n' >"$root/etc/nsswitch.conf"
}

# Guest scripts from tests/guest/. A missing one stops the pack: no stand-in
# can print what the harness expects of it.
add_scripts() {
    local root=$1 name names=(checks.sh run-tests.sh run-nobounce.sh run-stress.sh run-demo.sh run-dkms.sh
        run-secureboot.sh run-iommu.sh run-bench.sh)
    [ "$MODE" = tests ] && names+=(run-udev.sh)
    for name in "${names[@]}"; do
        [ -f "$GUEST_DIR/$name" ] || die "no $GUEST_DIR/$name"
        install -m 755 "$GUEST_DIR/$name" "$root/$name"
    done
}

# /init. In every mode the script's output goes to the second serial port
# (ttyS1, a file of its own on the host: boot.sh), the kernel's to ttyS0, so
# that the two can never interleave and nothing a program prints can be
# taken for a kernel line. Userspace crash reports (segfault, trap) are
# KERN_INFO, below the console's level: after the script, init copies them
# from the kernel log to the console, where the verdict looks for them.
add_init() {
    local root=$1 script=/run-${MODE%%-*}.sh out=/dev/ttyS1
    [ "$KARCH" = arm64 ] && out=/dev/ttyS0     # PL011 is ttyAMA0 (boot.sh)
    cat >"$root/init" <<EOF
#!/bin/sh
# Generated by tests/harness/initramfs.sh ($FAMILY, $MODE).
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
export KVER_FAMILY=$FAMILY KVER_RELEASE=$KREL
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
chmod 1777 /tmp
exec </dev/null >$out 2>&1
cd /
echo "harness: $script on \$(uname -r) (KVER_FAMILY=\$KVER_FAMILY)"
sh $script
echo "harness: $script exited with status \$?"
dmesg | grep -E 'segfault at|traps: ' >/dev/console
sync
# Let the UART drain before the machine goes.
sleep 1
poweroff -f
EOF
    chmod 755 "$root/init"
}

main() {
    local stage out
    load_kernel_env "$FAMILY"
    KARCH=${KARCH:-amd64}
    TESTS_BIN=${TESTS_BIN:-$(tests_bin_of "$KARCH")}
    if [ "$KARCH" != amd64 ]; then
        SYSROOT=$CACHE_DIR/sysroot-$KARCH
        [ -f "$SYSROOT/.harness-debs" ] || die "no $SYSROOT: run sysroot.sh $KARCH first"
    fi
    ls "$BUILD_DIR/$KREL"/*.ko >/dev/null 2>&1 ||
        die "no modules in $BUILD_DIR/$KREL: run build-modules.sh $FAMILY first"
    out=$BUILD_DIR/initramfs/$FAMILY-$MODE.cpio.gz
    stage=$BUILD_DIR/initramfs/$FAMILY-$MODE.root
    rm -rf "$stage"
    mkdir -p "$stage"/{dev,proc,sys,tmp,run}
    chmod 1777 "$stage/tmp"
    # The kernel opens /dev/console for init before /init can mount devtmpfs.
    mknod -m 600 "$stage/dev/console" c 5 1
    mknod -m 666 "$stage/dev/null" c 1 3

    add_busybox "$stage"
    add_etc "$stage"
    add_modules "$stage"
    add_tests "$stage"
    if [ "$MODE" = tests ]; then add_udev "$stage"; fi
    if [ "$MODE" != dkms ] && [ "$MODE" != secureboot ]; then add_stock_modules "$stage"; fi
    add_scripts "$stage"
    add_init "$stage"

    (cd "$stage" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
        cpio --null --create --format=newc --quiet) | gzip -6 >"$out.tmp"
    mv "$out.tmp" "$out"
    rm -rf "$stage"
    echo "$out"
}

main; exit
