#!/usr/bin/env bash
# Build the Debian packages from a clean copy of the tree and check them.
#
#   tests/harness/package.sh
#
# Copies the tree (git's tracked and unignored files: no build/, .git, kbuild
# or harness output) to a temporary directory, builds the source package and
# `dpkg-buildpackage -us -uc -b`, runs lintian on the .changes and the .dsc,
# and checks the contents of the .debs, which end up in build/packages/.
# Installs its build dependencies itself (Debian packages; needs root only
# for that). One PASS:/FAIL: line per check (SKIP: lines count neither);
# the last line is "package: N passed, M failed", non-zero exit on failure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

DEPS=(build-essential dpkg-dev debhelper dh-dkms lintian libkmod-dev gcc make libc6-dev
      git xz-utils kmod binutils linux-source-6.12)
OUT_DIR=$BUILD_DIR/packages
NAME=dmabuf-core
WORK_DIR=        # the temporary directory, removed on exit

CHECK_NAME=package
skip() { echo "SKIP: package: $*"; }

install_deps() {
    local p missing=()
    for p in "${DEPS[@]}"; do
        pkg_installed "$p" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    require_root
    host_apt_install "${missing[@]}"
}

check_version() {   # check_version SRC
    local upstream deb
    upstream=$(cat "$1/VERSION")
    deb=$(cd "$1" && dpkg-parsechangelog -S Version)
    if [ "${deb%-*}" = "$upstream" ]; then
        pass "version agreement: VERSION $upstream, debian/changelog $deb"
    else
        fail "version agreement: VERSION says $upstream, debian/changelog $deb"
    fi
}

# Binary build; the source package (3.0 (quilt): an orig tarball of the tree
# without debian/) is built first, from the pristine tree.
build() {   # build WORK SRCDIR VERSION
    local work=$1 src=$2 ver=$3 log=$1/build.log
    tar -C "$work" --exclude="$(basename "$src")/debian" \
        -cJf "$work/${NAME}_${ver%-*}.orig.tar.xz" "$(basename "$src")"
    if (cd "$work" && dpkg-source -b "$(basename "$src")") >"$log" 2>&1 &&
       (cd "$src" && dpkg-buildpackage -us -uc -b) >>"$log" 2>&1; then
        pass "build: dpkg-source -b and dpkg-buildpackage -us -uc -b"
        return 0
    fi
    tail -40 "$log"
    fail "build failed (log above)"
    return 1
}

run_lintian() {   # run_lintian WORK VERSION ARCH
    local work=$1 ver=$2 arch=$3 out rc=0
    # TMPDIR: lintian leaves mldbm-elf-* files behind in it.
    out=$(cd "$work" && TMPDIR=$work lintian -I --fail-on error,warning \
        "${NAME}_${ver}_${arch}.changes" "${NAME}_${ver}.dsc" 2>&1) || rc=$?
    echo "---- lintian ----"
    [ -n "$out" ] && printf '%s\n' "$out"
    echo "-----------------"
    if [ "$rc" -eq 0 ]; then
        pass "lintian clean (no errors or warnings) on the .changes and the .dsc"
    else
        fail "lintian reports errors or warnings (exit $rc, output above)"
    fi
}

# What the .debs hold, against the tree they came from.
check_dkms_deb() {   # check_dkms_deb DEB SRC UPSTREAM_VERSION
    local deb=$1 src=$2 ver=$3 list dir f bad=() missing=()
    local what="dkms.conf, Kbuild, Makefile, VERSION, scripts/dkms-symvers, every file of src/ and include/, the API headers in /usr/src/$NAME/include"
    dir=./usr/src/$NAME-$ver
    list=$(dpkg-deb -c "$deb" | awk '{ print $6 }')
    for f in Kbuild Makefile VERSION dkms.conf scripts/dkms-symvers \
             $(cd "$src" && find src include -type f | LC_ALL=C sort); do
        grep -qxF "$dir/$f" <<<"$list" || missing+=("$f")
    done
    for f in dmabuf_core.h dmabuf_core_pages.h; do
        grep -qxF "./usr/src/$NAME/include/linux/$f" <<<"$list" ||
            missing+=("/usr/src/$NAME/include/linux/$f")
    done
    dpkg-deb -c "$deb" | awk '$6 ~ /\/scripts\/dkms-symvers$/ { print $1 }' | grep -qx -- -rwxr-xr-x ||
        missing+=("an executable scripts/dkms-symvers")
    # A man page for every exported function and every public structure.
    what="$what, a man page (section 9) for every exported symbol and public structure"
    for f in $(sed -n 's/^EXPORT_SYMBOL[A-Z_]*(\([a-z0-9_]*\),.*/\1/p' "$src"/src/core/*.c) \
             $(sed -n 's/^struct \(dmabuf_core_[a-z_]*\) {$/\1/p' "$src"/include/linux/dmabuf_core*.h \
                   "$src"/include/uapi/linux/dmabuf_core.h); do
        grep -qxF "./usr/share/man/man9/$f.9.gz" <<<"$list" || missing+=("man9/$f.9.gz")
    done
    if [ -f "$src/udev/60-dmabuf-core.rules" ]; then
        what="$what and the udev rule"
        grep -qxF ./lib/udev/rules.d/60-dmabuf-core.rules <<<"$list" ||
            missing+=(lib/udev/rules.d/60-dmabuf-core.rules)
    fi
    mapfile -t bad < <(grep -E '\.(o|ko|cmd|mod|mod\.c|order|symvers)$|/\.git|/build/|/tests/|/debian/' <<<"$list" || true)
    if [ ${#missing[@]} -eq 0 ] && [ ${#bad[@]} -eq 0 ]; then
        pass "dmabuf-core-dkms holds $what; no build output"
    else
        fail "dmabuf-core-dkms: missing: ${missing[*]:-none}; unexpected: ${bad[*]:-none}"
    fi
    if dpkg-deb --fsys-tarfile "$deb" | tar -xOf - "$dir/dkms.conf" |
            grep -qx "PACKAGE_VERSION=\"$ver\""; then
        pass "dmabuf-core-dkms: dkms.conf says PACKAGE_VERSION=\"$ver\""
    else
        fail "dmabuf-core-dkms: dkms.conf does not say PACKAGE_VERSION=\"$ver\""
    fi
}

check_example_deb() {   # check_example_deb DEB SRC UPSTREAM_VERSION
    local deb=$1 src=$2 ver=$3 list dir f missing=() bad=() conf
    dir=./usr/src/dmabuf-example-$ver
    list=$(dpkg-deb -c "$deb" | awk '{ print $6 }')
    for f in Kbuild Makefile dkms.conf \
             $(cd "$src/examples/dmabuf-example" && find . -name '*.[ch]' | sed 's|^\./||' | LC_ALL=C sort); do
        grep -qxF "$dir/$f" <<<"$list" || missing+=("$f")
    done
    mapfile -t bad < <(grep -E '\.(o|ko|cmd|mod|mod\.c|order|symvers)$|/usr/src/dmabuf-core' <<<"$list" || true)
    conf=$(dpkg-deb --fsys-tarfile "$deb" | tar -xOf - "$dir/dkms.conf")
    grep -qx "PACKAGE_VERSION=\"$ver\"" <<<"$conf" || missing+=("PACKAGE_VERSION=\"$ver\" in dkms.conf")
    grep -qx 'BUILD_DEPENDS\[0\]="dmabuf-core"' <<<"$conf" || missing+=("BUILD_DEPENDS[0]=dmabuf-core in dkms.conf")
    dpkg-deb -f "$deb" Depends | grep -q "dmabuf-core-dkms (= " || missing+=("Depends: dmabuf-core-dkms (= version)")
    if [ ${#missing[@]} -eq 0 ] && [ ${#bad[@]} -eq 0 ]; then
        pass "dmabuf-example-dkms holds the example's sources and a dkms.conf with BUILD_DEPENDS on dmabuf-core; depends on this dmabuf-core-dkms"
    else
        fail "dmabuf-example-dkms: missing: ${missing[*]:-none}; unexpected: ${bad[*]:-none}"
    fi
}

check_tools_deb() {   # check_tools_deb DEB SRC WORK
    local deb=$1 src=$2 x=$3/tools-x f t missing=() static=()
    dpkg-deb -x "$deb" "$x"
    [ -x "$x/usr/bin/dmabuf-demo" ] || missing+=(usr/bin/dmabuf-demo)
    [ -x "$x/usr/bin/dmabuf-ctl" ] || missing+=(usr/bin/dmabuf-ctl)
    [ -f "$x/usr/share/man/man1/dmabuf-ctl.1.gz" ] || missing+=(usr/share/man/man1/dmabuf-ctl.1.gz)
    # Exactly the programs debian/dmabuf-core-tools.programs lists.
    for t in $(sed -n 's/^\(t_[a-z0-9_]*\)$/\1/p' "$src/debian/dmabuf-core-tools.programs"); do
        [ -x "$x/usr/libexec/dmabuf-core/$t" ] || missing+=("usr/libexec/dmabuf-core/$t")
    done
    for f in "$x"/usr/libexec/dmabuf-core/*; do
        [ -f "$f" ] || continue
        grep -qx "$(basename "$f")" "$src/debian/dmabuf-core-tools.programs" ||
            missing+=("(not listed, but shipped: ${f#"$x"})")
    done
    for f in "$x"/usr/bin/* "$x"/usr/libexec/dmabuf-core/*; do
        [ -f "$f" ] || continue
        readelf -d "$f" 2>/dev/null | grep -q NEEDED || static+=("${f#"$x"}")
    done
    if [ ${#missing[@]} -eq 0 ] && [ ${#static[@]} -eq 0 ]; then
        pass "dmabuf-core-tools holds /usr/bin/dmabuf-demo, /usr/bin/dmabuf-ctl and its man page, and the test programs, dynamically linked"
    else
        fail "dmabuf-core-tools: missing: ${missing[*]:-none}; static: ${static[*]:-none}"
    fi
}

# What DKMS does with the packaged tree, without DKMS's side effects
# (/var/lib/dkms, signing keys): source dkms.conf as dkms does, run MAKE[0]
# for one kernel whose headers are installed, check BUILT_MODULE_NAME[],
# then CLEAN.
check_dkms_build() {   # check_dkms_build DEB WORK UPSTREAM_VERSION
    local deb=$1 work=$2 ver=$3 krel='' d tree log=$2/dkms-build.log out
    for d in /lib/modules/*/build; do
        [ -e "$d/Makefile" ] && { krel=$(basename "$(dirname "$d")"); break; }
    done
    if [ -z "$krel" ]; then
        skip "DKMS build: no kernel headers under /lib/modules/*/build"
        return 0
    fi
    dpkg-deb -x "$deb" "$work/dkms-x"
    tree=$work/dkms-x/usr/src/$NAME-$ver
    rm -rf "$work/kapi"
    mkdir -p "$work/kapi"
    cp -a "$work/dkms-x/usr/src/$NAME/include" "$work/kapi/"
    if out=$(cd "$tree" && kernelver=$krel kernel_source_dir=/lib/modules/$krel/build \
            DMABUF_CORE_KAPIDIR=$work/kapi dkms_tree=$work/dkms-tree arch=$(uname -m) bash -euc '
                . ./dkms.conf
                [[ $kernelver =~ $BUILD_EXCLUSIVE_KERNEL ]] ||
                    { echo "BUILD_EXCLUSIVE_KERNEL excludes $kernelver"; exit 1; }
                eval "${MAKE[0]}" -j2 >"$0" 2>&1 || { tail -30 "$0"; exit 1; }
                for m in "${BUILT_MODULE_NAME[@]}"; do
                    [ -f "$m.ko" ] || { echo "$m.ko not built"; exit 1; }
                    v=$(modinfo -F vermagic "$m.ko")
                    [ "${v%% *}" = "$kernelver" ] || { echo "$m.ko: vermagic $v"; exit 1; }
                done
                [ ${#BUILT_MODULE_NAME[@]} -eq 3 ] || { echo "BUILT_MODULE_NAME[] is not 3 modules"; exit 1; }
                [ ! -e dmabuf_selftest.ko ] || { echo "dmabuf_selftest.ko built"; exit 1; }
                for i in 0 1 2; do
                    [ "${DEST_MODULE_LOCATION[$i]}" = /updates/dkms ] ||
                        { echo "DEST_MODULE_LOCATION[$i]=${DEST_MODULE_LOCATION[$i]}"; exit 1; }
                done
                [ "$AUTOINSTALL" = yes ] || { echo "AUTOINSTALL is not yes"; exit 1; }
                # POST_BUILD as DKMS runs it, in the build tree before CLEAN
                # (DKMS has made its directory of this build), then
                # POST_INSTALL.
                mkdir -p "$dkms_tree/$PACKAGE_NAME/$PACKAGE_VERSION/$kernelver/$arch"
                eval "$POST_BUILD" >>"$0" 2>&1 || { echo "POST_BUILD failed: $POST_BUILD"; exit 1; }
                [ ! -e "$DMABUF_CORE_KAPIDIR/$kernelver" ] ||
                    { echo "POST_BUILD published already, before any install"; exit 1; }
                eval "$POST_INSTALL" >>"$0" 2>&1 || { echo "POST_INSTALL failed: $POST_INSTALL"; exit 1; }
                cmp -s Module.symvers "$DMABUF_CORE_KAPIDIR/$kernelver/Module.symvers" ||
                    { echo "POST_INSTALL did not publish Module.symvers for $kernelver"; exit 1; }
                eval "$CLEAN" >>"$0" 2>&1
                ! ls ./*.ko >/dev/null 2>&1 || { echo "CLEAN left .ko files"; exit 1; }
            ' "$log" 2>&1); then
        pass "DKMS build for $krel: MAKE[0] builds the 3 modules in one run (no selftest), POST_BUILD keeps Module.symvers, POST_INSTALL publishes it, CLEAN cleans"
    else
        printf '%s\n' "$out"
        fail "DKMS build for $krel: $(tail -1 <<<"$out")"
        return 0
    fi
    check_example_build "$work" "$ver" "$krel" "$tree"
}

# The example's dkms.conf, as DKMS would run it after dmabuf-core's build
# (BUILD_DEPENDS), against what that build published; then dmabuf-core's
# POST_REMOVE, which drops the copy of a release no longer installed.
check_example_build() {   # check_example_build WORK UPSTREAM_VERSION RELEASE CORE_TREE
    local work=$1 ver=$2 krel=$3 core=$4 deb tree out log=$1/example-build.log
    deb=$(ls "$OUT_DIR"/dmabuf-example-dkms_*_all.deb)
    dpkg-deb -x "$deb" "$work/example-x"
    tree=$work/example-x/usr/src/dmabuf-example-$ver
    if out=$(cd "$tree" && kernelver=$krel kernel_source_dir=/lib/modules/$krel/build \
            DMABUF_CORE_DIR=$work/kapi bash -euc '
                . ./dkms.conf
                eval "${MAKE[0]}" >"$0" 2>&1 || { tail -30 "$0"; exit 1; }
                m=${BUILT_MODULE_NAME[0]}.ko
                [ "$(modinfo -F depends "$m")" = dmabuf_core ] || { echo "$m: depends $(modinfo -F depends "$m")"; exit 1; }
                [ "$(modinfo -F import_ns "$m")" = DMABUF_CORE ] || { echo "$m: no import_ns DMABUF_CORE"; exit 1; }
                v=$(modinfo -F vermagic "$m")
                [ "${v%% *}" = "$kernelver" ] || { echo "$m: vermagic $v"; exit 1; }
                eval "$CLEAN" >>"$0" 2>&1
                [ ! -e "$m" ] || { echo "CLEAN left $m"; exit 1; }
            ' "$log" 2>&1); then
        pass "DKMS build of dmabuf-example for $krel against the published Module.symvers: depends dmabuf_core, imports DMABUF_CORE"
    else
        printf '%s\n' "$out"
        fail "DKMS build of dmabuf-example for $krel: $(tail -1 <<<"$out")"
    fi
    if out=$(cd "$core" && DMABUF_CORE_KAPIDIR=$work/kapi \
            scripts/dkms-symvers sync "$work/no-dkms-tree" "$(uname -m)" 2>&1) &&
       [ ! -e "$work/kapi/$krel" ] && [ -d "$work/kapi/include" ]; then
        pass "dmabuf-core's POST_REMOVE drops the Module.symvers of a release it is not installed for, keeps the headers"
    else
        fail "dmabuf-core's POST_REMOVE: $out; left: $(ls "$work/kapi")"
    fi
}

main() {
    local start work src ver upstream arch deb stamp
    start=$(date +%s)
    install_deps
    work=$(mktemp -d "${TMPDIR:-/tmp}/dmabuf-core-package.XXXXXX")
    WORK_DIR=$work
    trap 'rm -rf "$WORK_DIR"' EXIT
    upstream=$(cat "$REPO_ROOT/VERSION")
    src=$work/$NAME-$upstream
    stamp=$(tree_stamp)
    copy_source_tree "$src"
    check_version "$src"
    ver=$(cd "$src" && dpkg-parsechangelog -S Version)
    arch=$(dpkg-architecture -qDEB_HOST_ARCH)

    if ! build "$work" "$src" "$ver"; then
        summary
        return 1
    fi
    run_lintian "$work" "$ver" "$arch"

    mkdir -p "$OUT_DIR"
    rm -f "$OUT_DIR"/*.deb "$OUT_DIR/tree-stamp"
    cp "$work"/*.deb "$OUT_DIR"/
    echo "$stamp" >"$OUT_DIR/tree-stamp"
    for deb in "$OUT_DIR"/*.deb; do
        echo "---- dpkg -c $(basename "$deb") ----"
        dpkg-deb -c "$deb"
    done

    deb=$OUT_DIR/${NAME}-dkms_${ver}_all.deb
    check_dkms_deb "$deb" "$src" "$upstream"
    check_example_deb "$OUT_DIR/dmabuf-example-dkms_${ver}_all.deb" "$src" "$upstream"
    check_dkms_build "$deb" "$work" "$upstream"
    check_tools_deb "$OUT_DIR/${NAME}-tools_${ver}_${arch}.deb" "$src" "$work"

    log "package: done in $(($(date +%s) - start))s; .debs in $OUT_DIR"
    summary
}

main "$@"; exit
