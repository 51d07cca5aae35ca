#!/usr/bin/env bash
# The DKMS upgrade scenario, end to end, as a user lives it:
#
#   1. a Debian 12 system with the 6.1 kernel headers installs
#      dmabuf-core-dkms and dmabuf-core-tools as the README says (one
#      apt-get install): DKMS builds and installs the modules for 6.1 and
#      leaves their Module.symvers in /usr/src/dmabuf-core/<6.1 release>/;
#      then dmabuf-example-dkms, a third-party driver that DKMS builds
#      against it;
#   2. the user installs the 6.12 kernel (nothing is built: no headers yet),
#      then its headers and nothing else: DKMS builds both for 6.12 by
#      itself (the headers' header_postinst.d hook), dmabuf-core first;
#   3. DKMS signs the modules with the machine owner key, here a throwaway
#      one: every module's signature names that key's serial;
#   4. the stock 6.12 kernel boots under QEMU with the DKMS-built modules,
#      loaded by modprobe from a depmod'd tree (the example pulls in
#      dmabuf_core), and passes the smoke tests, the packaged dmabuf-demo
#      and `dmabuf-ctl list` among them;
#   5. purging dmabuf-core-dkms while the example is installed removes
#      both packages (apt: the example depends on it), every module for
#      every kernel and /usr/src/dmabuf-core;
#   6. the README's commands without packages: make, make install, make
#      uninstall, make install-dkms, make uninstall-dkms, for 6.12.
#
#   tests/harness/upgrade.sh [DKMS_DEB]   (default build/packages/dmabuf-core-dkms_*_all.deb;
#                                          dmabuf-example-dkms and
#                                          dmabuf-core-tools are taken from beside it)
#
# The system is a bookworm chroot made once with debootstrap
# ($CACHE_DIR/bookworm-base, headers pre-downloaded) and copied afresh for
# every run. Prints PASS:/FAIL: lines and a last line "upgrade: N passed, M
# failed"; exits non-zero on any failure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ROOT=$BUILD_DIR/upgrade-root
DKMS_BUILD=$BUILD_DIR/dkms            # BUILD_DIR of the guest boot
ROOT_LOG=$LOG_DIR/upgrade-apt.log     # what root_install says
KEY_CN="dmabuf-core throwaway test key"
CHECK_NAME=upgrade

# A fresh copy of the base system, with a throwaway machine owner key where
# DKMS looks for one (/var/lib/dkms/mok.key, mok.pub).
fresh_root_with_key() {
    fresh_root
    mkdir -p "$ROOT/var/lib/dkms"
    in_root openssl req -new -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$KEY_CN/" \
        -keyout /var/lib/dkms/mok.key -outform DER -out /var/lib/dkms/mok.pub \
        >/dev/null 2>&1 || die "openssl failed in $ROOT"
}

installed_for() {   # dmabuf-core's three modules are installed for release $1
    local status
    status=$(in_root dkms status dmabuf-core -k "$1" 2>&1 || true)
    [ "$(dkms_modules "$1" 'dmabuf_[cd][oe]*' | wc -l)" -eq 3 ] && [[ $status == *installed* ]]
}

example_installed_for() {   # dmabuf_example is installed for release $1
    local status
    status=$(in_root dkms status dmabuf-example -k "$1" 2>&1 || true)
    [ "$(dkms_modules "$1" dmabuf_example | wc -l)" -eq 1 ] && [[ $status == *installed* ]]
}

# dmabuf-core's build for release $1 left its Module.symvers for
# third-party drivers, naming dmabuf_core's exports.
symvers_published_for() {
    grep -q 'dmabuf_core_export_from.*dmabuf_core' "$ROOT/usr/src/dmabuf-core/$1/Module.symvers" &&
        [ -f "$ROOT/usr/src/dmabuf-core/include/linux/dmabuf_core.h" ]
}

# DKMS built dmabuf-core for release $1 before the example: its make.log
# is older than the example's.
built_in_order() {
    local core ex
    core=$(ls "$ROOT"/var/lib/dkms/dmabuf-core/*/"$1"/*/log/make.log 2>/dev/null | head -n 1)
    ex=$(ls "$ROOT"/var/lib/dkms/dmabuf-example/*/"$1"/*/log/make.log 2>/dev/null | head -n 1)
    [ -n "$core" ] && [ -n "$ex" ] && [ ! "$core" -nt "$ex" ]
}

nothing_for() {     # no module of ours exists for release $1
    [ -z "$(dkms_modules "$1")" ]
}

# Every module of release $1 (dmabuf-core's three and the example) carries
# a signature made with our key: the
# signature's key serial is the certificate's serial.
signed_by_our_key() {
    local krel=$1 serial ko sig n=0
    serial=$(in_root openssl x509 -inform DER -noout -serial -in /var/lib/dkms/mok.pub)
    serial=${serial#serial=}
    for ko in $(dkms_modules "$krel"); do
        sig=$(modinfo -F sig_key "$ko" 2>/dev/null | tr -d ':\n')
        [ -n "$sig" ] && [ "${sig^^}" = "${serial^^}" ] || return 1
        n=$((n + 1))
    done
    [ "$n" -eq 4 ]
}

boot_with_dkms_modules() {
    local family=$1
    stage_dkms_guest "$family" "$DKMS_BUILD" ||
        fail "dmabuf-core-tools installed no /usr/bin/dmabuf-demo and dmabuf-ctl"
    if boot_dkms_guest "$family" dkms "$DKMS_BUILD"; then
        pass "$family kernel boots the DKMS-built modules, modprobe loads them, smoke tests pass"
    else
        fail "$family kernel with the DKMS-built modules (console: $DKMS_BUILD/logs/$family-dkms.log)"
    fi
}

# The README's commands for building and installing without the packages,
# run as a user runs them (without sudo: the chroot's user is root) in a
# copy of the tree, once the packages are gone. The chroot's `uname -r` is
# the host's, so each make gets KERNELRELEASE= of release $1, as the README
# says to do for another kernel. tests/harness/readme-commands.sh keeps the
# README's commands and the places that run them together.
README_SRC=/tmp/dmabuf-core-src
readme_commands() {
    local krel=$1
    mkdir -p "$ROOT$README_SRC"
    (cd "$SRC_DIR" && git ls-files -z --cached --others --exclude-standard |
        xargs -0 cp --parents -t "$ROOT$README_SRC")
    : >"$LOG_DIR/upgrade-readme.log"
    log "upgrade: the README's make, make install, make install-dkms and their uninstalls, for $krel"
    expect "README: make builds the three modules" readme_built "$krel"
    expect "README: make install puts the modules in updates/, the headers and Module.symvers in place" \
        readme_installed "$krel"
    expect "README: make uninstall removes them" readme_uninstalled "$krel"
    expect "README: make install-dkms adds the sources to DKMS and installs for the release" \
        readme_dkms_installed "$krel"
    expect "README: make uninstall-dkms removes the DKMS entry, the modules and the sources" \
        readme_dkms_uninstalled "$krel"
    rm -rf "${ROOT:?}$README_SRC"
}

# `make TARGET KERNELRELEASE=$1` in the copy of the tree, in the chroot.
readme_make() {
    in_root make -C "$README_SRC" "$2" KERNELRELEASE="$1" >>"$LOG_DIR/upgrade-readme.log" 2>&1
}

readme_built() {
    local m
    readme_make "$1" all || return 1
    for m in dmabuf_core dmabuf_demo_exporter dmabuf_demo_importer; do
        [ -f "$ROOT$README_SRC/$m.ko" ] || return 1
    done
}

# (Compressed as the kernel's own modules are, where its config says so.)
readme_installed() {
    readme_make "$1" install &&
        [ -n "$(find "$ROOT/lib/modules/$1/updates" -maxdepth 1 -name 'dmabuf_core.ko*')" ] &&
        [ -f "$ROOT/usr/include/linux/dmabuf_core.h" ] &&
        [ -f "$ROOT/usr/src/dmabuf-core/$1/Module.symvers" ]
}

readme_uninstalled() {
    readme_make "$1" uninstall &&
        [ -z "$(find "$ROOT/lib/modules/$1/updates" -maxdepth 1 -name 'dmabuf*.ko*')" ] &&
        [ ! -e "$ROOT/usr/include/linux/dmabuf_core.h" ] && [ ! -e "$ROOT/usr/src/dmabuf-core" ]
}

readme_dkms_installed() { readme_make "$1" install-dkms && installed_for "$1"; }

readme_dkms_uninstalled() {
    readme_make "$1" uninstall-dkms && nothing_for "$1" &&
        [ ! -e "$ROOT/usr/src/dmabuf-core-$(cat "$SRC_DIR/VERSION")" ] &&
        [ -z "$(in_root dkms status dmabuf-core 2>/dev/null)" ]
}

main() {
    local deb=${1:-} debs k61 k612 example_deb tools_deb mark
    require_root
    if [ -z "$deb" ]; then
        debs=("$BUILD_DIR"/packages/dmabuf-core-dkms_*_all.deb)
        deb=${debs[-1]}
    fi
    [ -f "$deb" ] || die "no dmabuf-core-dkms package: run tests/harness/package.sh first"
    example_deb=$(dirname "$deb")/$(basename "$deb" | sed 's/^dmabuf-core-dkms_/dmabuf-example-dkms_/')
    [ -f "$example_deb" ] || die "no $example_deb beside $deb"
    tools_deb=$(ls "$(dirname "$deb")"/dmabuf-core-tools_*_amd64.deb 2>/dev/null | tail -n 1)
    [ -f "$tools_deb" ] || die "no dmabuf-core-tools package beside $deb"
    mkdir -p "$LOG_DIR"
    : >"$LOG_DIR/upgrade-apt.log"
    "$HARNESS_DIR/deps.sh" >/dev/null
    host_apt_install xz-utils
    "$HARNESS_DIR/kernels.sh" 6.1 >/dev/null
    "$HARNESS_DIR/kernels.sh" 6.12 >/dev/null
    k61=$(kernel_release 6.1)
    k612=$(kernel_release 6.12)
    with_lock bookworm-base make_base
    trap 'umount_under "$ROOT"' EXIT
    fresh_root_with_key

    log "upgrade: install the 6.1 headers, then $(basename "$deb") and $(basename "$tools_deb")"
    root_install "$(headers_pkg 6.1)" || fail "installing $(headers_pkg 6.1) (log: $LOG_DIR/upgrade-apt.log)"
    cp "$deb" "$tools_deb" "$ROOT/tmp/"
    # As the README has it: both packages in one apt-get install.
    if root_install "/tmp/$(basename "$deb")" "/tmp/$(basename "$tools_deb")"; then
        pass "dmabuf-core-dkms and dmabuf-core-tools install"
    else
        fail "dmabuf-core-dkms and dmabuf-core-tools install (log: $LOG_DIR/upgrade-apt.log)"
    fi
    expect "DKMS built and installed the modules for $k61 at package install" installed_for "$k61"
    expect "dmabuf-core's build for $k61 left its Module.symvers in /usr/src/dmabuf-core/$k61" \
        symvers_published_for "$k61"
    cp "$example_deb" "$ROOT/tmp/"
    if root_install "/tmp/$(basename "$example_deb")"; then
        pass "dmabuf-example-dkms installs"
    else
        fail "dmabuf-example-dkms installs (log: $LOG_DIR/upgrade-apt.log)"
    fi
    expect "DKMS built the example against it and installed it for $k61" example_installed_for "$k61"

    log "upgrade: install the 6.12 kernel, then its headers and nothing else"
    root_install "$(image_pkg 6.12)" || fail "installing $(image_pkg 6.12)"
    expect "nothing is built for $k612 while its headers are missing" nothing_for "$k612"
    mark=$(wc -l <"$LOG_DIR/upgrade-apt.log")
    root_install "$(headers_pkg 6.12)" || fail "installing $(headers_pkg 6.12)"
    expect "DKMS built the modules for $k612 by itself when its headers arrived" installed_for "$k612"
    expect "and the example, against dmabuf-core's new Module.symvers" example_installed_for "$k612"
    expect "dmabuf-core was built for $k612 before the example (BUILD_DEPENDS)" built_in_order "$k612"
    expect "dmabuf-core's build for $k612 left its Module.symvers" symvers_published_for "$k612"
    echo "  DKMS, as the 6.12 headers were installed:"
    tail -n +"$((mark + 1))" "$LOG_DIR/upgrade-apt.log" |
        grep -E 'dmabuf|[Bb]uilding|[Ii]nstalling|autoinstall|Module.symvers' | sed 's/^/    /'

    # A reinstall without a build (DKMS uninstalls first: POST_REMOVE).
    in_root dkms install --force -m dmabuf-core -v "$(cat "$SRC_DIR/VERSION")" -k "$k61" \
        >>"$LOG_DIR/upgrade-apt.log" 2>&1 || fail "dkms install --force for $k61"
    expect "after dkms install --force of the installed build, $k61's Module.symvers is still published" \
        symvers_published_for "$k61"
    expect "every module for $k61 is signed with the throwaway MOK (sig_key = its serial)" \
        signed_by_our_key "$k61"
    expect "every module for $k612 is signed with the throwaway MOK (sig_key = its serial)" \
        signed_by_our_key "$k612"

    boot_with_dkms_modules 6.12

    log "upgrade: purge dmabuf-core-dkms, with dmabuf-example-dkms installed"
    in_root apt-get "${APT_OPTS[@]}" purge dmabuf-core-dkms >>"$LOG_DIR/upgrade-apt.log" 2>&1 ||
        fail "purging dmabuf-core-dkms"
    if in_root dpkg-query -W -f '${db:Status-Abbrev}' dmabuf-example-dkms 2>/dev/null | grep -q '^ii'; then
        fail "purging dmabuf-core-dkms left dmabuf-example-dkms installed"
    else
        pass "purging dmabuf-core-dkms removes dmabuf-example-dkms too (it depends on it)"
    fi
    if nothing_for "$k61" && nothing_for "$k612" &&
            [ ! -e "$ROOT/usr/src/dmabuf-core-$(cat "$SRC_DIR/VERSION")" ] &&
            [ ! -e "$ROOT/usr/src/dmabuf-example-$(cat "$SRC_DIR/VERSION")" ] &&
            [ ! -e "$ROOT/usr/src/dmabuf-core" ] &&
            [ -z "$(in_root dkms status dmabuf-core 2>/dev/null)" ] &&
            [ -z "$(in_root dkms status dmabuf-example 2>/dev/null)" ]; then
        pass "purge removes both packages' modules for both kernels, the sources, /usr/src/dmabuf-core and the DKMS entries"
    else
        fail "purge left: $(dkms_modules "$k61") $(dkms_modules "$k612") $(ls -d "$ROOT"/usr/src/dmabuf-* 2>&1) $(in_root dkms status 2>&1)"
    fi

    readme_commands "$k612"

    umount_under "$ROOT"
    rm -rf "$ROOT"
    trap - EXIT
    summary
}

main "$@"; exit
