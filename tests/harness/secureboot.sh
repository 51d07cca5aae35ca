#!/usr/bin/env bash
# Secure Boot, end to end, as a user meets it (`make check-secureboot`):
#
#   1. a Debian 12 system with the 6.12 kernel headers installs
#      dmabuf-core-dkms and dmabuf-core-tools; DKMS, finding no machine
#      owner key, makes its own (/var/lib/dkms/mok.key, mok.pub) and signs
#      the modules it builds with it;
#   2. that certificate goes into MokList in a fresh copy of OVMF's
#      variables (Debian's PK/KEK, Microsoft's db, Secure Boot on), as
#      `mokutil --import` and MokManager's "Enroll MOK" would leave it;
#   3. OVMF boots Debian's signed shim, grub and 6.12 kernel from an EFI
#      system partition (boot.sh, mode secureboot); the kernel is locked
#      down, and tests/guest/run-secureboot.sh checks that DKMS's modules
#      load and work, that the packaged tools point at Secure Boot while
#      /dev/dmabuf is missing, and that an unsigned build, one signed by
#      another key and a signed one with a byte changed are refused with
#      EKEYREJECTED, judged by verdict.sh (expected-secureboot.txt);
#   4. the same boot with trixie-backports' newest signed kernel, whose
#      modules a bookworm DKMS cannot build: build-modules.sh builds them
#      in the trixie chroot and they are signed with DKMS's key, as DKMS
#      signs (SECUREBOOT_KERNELS=6.12 leaves this out).
#
#   tests/harness/secureboot.sh [DKMS_DEB]   (default build/packages/dmabuf-core-dkms_*_all.deb,
#                                             made by package.sh when missing or
#                                             made from another tree: tree-stamp;
#                                             dmabuf-core-tools is taken from beside it)
#
# The system is a copy of upgrade.sh's bookworm base. Shim and grub come
# from `apt-get download` (the candidates of the day, cached per version in
# $CACHE_DIR/secureboot), OVMF from the host's ovmf package. Prints
# PASS:/FAIL: lines and a last line "secureboot: N passed, M failed"; exits
# non-zero on any failure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ROOT=$BUILD_DIR/secureboot-root
ROOT_LOG=$LOG_DIR/secureboot-apt.log  # what root_install says
GUEST=$BUILD_DIR/secureboot-guest     # BUILD_DIR of the guest boot
FAMILY=6.12                           # the kernel DKMS builds for here
# 6.12 always boots; with newest in the list, the trixie-backports kernel
# too (its signed image boots through bookworm's shim and grub).
SECUREBOOT_KERNELS=${SECUREBOOT_KERNELS:-6.12 newest}
OVMF_DIR=/usr/share/OVMF
CHECK_NAME=secureboot

# The key serial of certificate $1 (DER) as modinfo prints sig_key: hex,
# upper case, no colons.
cert_serial() {
    openssl x509 -inform DER -noout -serial -in "$1" | sed 's/^serial=//' | tr a-f A-F
}

sig_key_of() { modinfo -F sig_key "$1" 2>/dev/null | tr -d ':\n' | tr a-f A-F; }

# ---- 1. DKMS in a Debian 12 system ----------------------------------------

no_key_yet() { [ ! -e "$ROOT/var/lib/dkms/mok.key" ] && [ ! -e "$ROOT/var/lib/dkms/mok.pub" ]; }

# DKMS's own key: the subject its prepare_signing() gives the certificate.
dkms_made_its_key() {
    [ -s "$ROOT/var/lib/dkms/mok.key" ] &&
        openssl x509 -inform DER -noout -subject -in "$ROOT/var/lib/dkms/mok.pub" |
        grep -q 'CN *= *DKMS module signing key'
}

installed_for() {   # dmabuf-core's three modules are installed for release $1
    [ "$(dkms_modules "$1" 'dmabuf_[cd][oe]*' | wc -l)" -eq 3 ] &&
        in_root dkms status dmabuf-core -k "$1" 2>&1 | grep -q installed
}

# Every module DKMS installed for release $1 carries a signature by DKMS's
# key: sig_key is the certificate's serial.
signed_by_dkms_key() {
    local serial ko n=0
    serial=$(cert_serial "$ROOT/var/lib/dkms/mok.pub")
    for ko in $(dkms_modules "$1"); do
        [ "$(sig_key_of "$ko")" = "$serial" ] || return 1
        n=$((n + 1))
    done
    [ "$n" -eq 3 ]
}

install_packages() {
    local deb=$1 tools_deb=$2 krel=$3
    log "secureboot: install the $FAMILY headers, then $(basename "$deb") and $(basename "$tools_deb")"
    # The headers pull in the image; its initramfs would take minutes to
    # make (mkinitramfs under TCG-loaded cores) and nothing boots it: the
    # guest boots the harness's own. DKMS is untouched by this.
    rm -f "$ROOT/etc/kernel/postinst.d/initramfs-tools"
    root_install "$(headers_pkg "$FAMILY")" || fail "installing $(headers_pkg "$FAMILY") (log: $ROOT_LOG)"
    expect "no machine owner key in /var/lib/dkms before the packages" no_key_yet
    cp "$deb" "$tools_deb" "$ROOT/tmp/"
    if root_install "/tmp/$(basename "$deb")" "/tmp/$(basename "$tools_deb")"; then
        pass "dmabuf-core-dkms and dmabuf-core-tools install"
    else
        fail "dmabuf-core-dkms and dmabuf-core-tools install (log: $ROOT_LOG)"
    fi
    expect "DKMS made its own machine owner key (/var/lib/dkms/mok.key, mok.pub: 'DKMS module signing key')" \
        dkms_made_its_key
    expect "DKMS built and installed the modules for $krel" installed_for "$krel"
    expect "DKMS signed every module with that key (sig_key = its serial)" signed_by_dkms_key "$krel"
}

# ---- 2. what the kernel must refuse ----------------------------------------

# sig_hash FAMILY: the hash the kernel signs its own modules with, which
# DKMS uses too.
sig_hash() {
    local h
    h=$(sed -n 's/^CONFIG_MODULE_SIG_HASH="\(.*\)"$/\1/p' "$(. "$(kernel_env_file "$1")" && echo "$KCONFIG")")
    echo "${h:-sha256}"
}

# $GUEST/<release of family $1>/refuse/: dmabuf_core.ko three ways.
# unsigned.ko: the signed module with its signature taken off, which gives
# back the module as kbuild built it (sign-file only appends: the module, a
# PKCS#7 blob, a 12-byte struct module_signature whose last 4 bytes are the
# blob's length, big-endian, and the marker). other-key.ko: that, signed by
# a key made here, which no keyring holds. tampered.ko: the signed module
# with one byte in the middle of the module flipped.
make_refusals() {
    local dir ko out siglen size other byte
    dir=$GUEST/$(kernel_release "$1")
    ko=$dir/dmabuf_core.ko
    out=$dir/refuse
    rm -rf "$out"
    mkdir -p "$out"
    size=$(stat -c %s "$ko")
    [ "$(tail -c 28 "$ko")" = "~Module signature appended~" ] ||
        die "$ko carries no module signature"
    siglen=$(tail -c 32 "$ko" | head -c 4 | od -An -tu1 |
        awk '{ print ((($1 * 256) + $2) * 256 + $3) * 256 + $4 }')
    head -c $((size - 40 - siglen)) "$ko" >"$out/unsigned.ko"
    expect "$1: unsigned.ko: dmabuf_core.ko without its signature (no sig_id)" \
        test -z "$(modinfo -F sig_id "$out/unsigned.ko")"

    other=$GUEST/other-key
    openssl req -new -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=a key nobody enrolled/" \
        -keyout "$other.key" -outform DER -out "$other.der" >/dev/null 2>&1 ||
        die "openssl failed"
    "$SIGN_FILE" "$(sig_hash "$1")" "$other.key" "$other.der" \
        "$out/unsigned.ko" "$out/other-key.ko" || die "sign-file failed"
    expect "$1: other-key.ko: signed by a key of its own (sig_key = that key's serial)" \
        test "$(sig_key_of "$out/other-key.ko")" = "$(cert_serial "$other.der")"

    cp "$ko" "$out/tampered.ko"
    byte=$(od -An -tu1 -j $((size / 2)) -N 1 "$ko")
    printf "\\$(printf '%03o' $((byte ^ 1)))" |
        dd of="$out/tampered.ko" bs=1 seek=$((size / 2)) conv=notrunc status=none
    expect "$1: tampered.ko: one byte differs, DKMS's signature kept" \
        test "$(cmp -l "$ko" "$out/tampered.ko" | wc -l)" = 1 -a \
        "$(sig_key_of "$out/tampered.ko")" = "$(sig_key_of "$ko")"
}

# ---- 3. the boot chain -------------------------------------------------------

candidate() {
    host_apt apt-cache policy "$1" 2>/dev/null | awk '/^ *Candidate:/ { print $2 }'
}

# Debian's signed shim and grub, the candidates of the day: shimx64.efi and
# grubx64.efi in $CACHE_DIR/secureboot/<versions>/, once per version. Prints
# that directory.
fetch_boot_chain() {
    local shim grub dir dl
    host_apt_update
    shim=$(candidate shim-signed)
    grub=$(candidate grub-efi-amd64-signed)
    [ -n "$shim" ] && [ -n "$grub" ] || die "no candidate for shim-signed or grub-efi-amd64-signed"
    dir=$CACHE_DIR/secureboot/shim-$shim-grub-$grub
    if [ ! -e "$dir/.done" ]; then
        log "downloading shim-signed $shim and grub-efi-amd64-signed $grub"
        rm -rf "$dir"
        mkdir -p "$dir"
        dl=$(mktemp -d "$CACHE_DIR/dl.XXXXXX")
        chmod 755 "$dl"
        chown _apt "$dl" 2>/dev/null || true   # apt downloads as _apt
        (cd "$dl" && host_apt apt-get -q download "shim-signed=$shim" \
            "grub-efi-amd64-signed=$grub") >&2 || die "apt-get download of shim and grub failed"
        dpkg-deb -x "$dl"/shim-signed_*.deb "$dl/x"
        dpkg-deb -x "$dl"/grub-efi-amd64-signed_*.deb "$dl/x"
        cp "$dl/x/usr/lib/shim/shimx64.efi.signed" "$dir/shimx64.efi"
        cp "$dl/x/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed" "$dir/grubx64.efi"
        rm -rf "$dl"
        touch "$dir/.done"
    fi
    echo "$dir"
}

# The kernel's name for certificate $1 (DER) once loaded: "CN: subject key
# identifier", spaces as _ for the kernel command line.
kernel_cert_name() {
    local cn skid
    cn=$(openssl x509 -inform DER -noout -subject -nameopt multiline -in "$1" |
        sed -n 's/^ *commonName *= *//p')
    skid=$(openssl x509 -inform DER -noout -ext subjectKeyIdentifier -in "$1" |
        tail -n 1 | tr -d ' :' | tr A-F a-f)
    echo "$cn: $skid" | tr ' ' _
}

# The firmware's side, once: OVMF's code, shim and grub, and a fresh copy of
# the Microsoft-keyed variables with DKMS's certificate in MokList.
prepare_firmware() {
    local chain
    chain=$(with_lock secureboot fetch_boot_chain)
    export SB_CODE=$OVMF_DIR/OVMF_CODE_4M.secboot.fd SB_SHIM=$chain/shimx64.efi \
        SB_GRUB=$chain/grubx64.efi SB_VARS=$GUEST/OVMF_VARS_4M.mok.fd
    cp "$OVMF_DIR/OVMF_VARS_4M.ms.fd" "$SB_VARS"
    expect "DKMS's certificate pre-seeded as a MOK in a fresh copy of OVMF_VARS_4M.ms.fd" \
        python3 "$HARNESS_DIR/mok-vars.py" "$SB_VARS" "$ROOT/var/lib/dkms/mok.pub"
    export EXTRA_APPEND="dmabuf_harness.mok_cert=$(kernel_cert_name "$ROOT/var/lib/dkms/mok.pub")"
}

boot_secure() {   # boot_secure FAMILY HOW: HOW says where the modules came from
    local family=$1 how=$2 out secs
    if boot_dkms_guest "$family" secureboot "$GUEST"; then
        pass "$family under Secure Boot (shim, grub, signed kernel; $how): locked down, the modules load and work, the three bad ones are refused"
    else
        fail "$family under Secure Boot (console: $GUEST/logs/$family-secureboot.log)"
    fi
    out=$GUEST/logs/$family-secureboot
    secs=$(sed -n 's/^seconds=//p' "$out.status")
    echo "  $(kernel_release "$family"): boot ${secs}s (OVMF to poweroff, -smp 1)"
    grep -E '^guest: (insmod|dmesg:)' "$out.results" 2>/dev/null | sed 's/^/  /' || true
}

# The newest kernel: a bookworm system's DKMS cannot build for it (its
# headers want trixie's gcc-14 and glibc), so build-modules.sh builds the
# three modules in the trixie chroot, as for make check, and they get
# DKMS's signature as DKMS gives it: sign-file with DKMS's key and
# certificate and the kernel's own hash.
stage_newest() {
    local krel ko n=0
    "$HARNESS_DIR/kernels.sh" newest >/dev/null
    krel=$(kernel_release newest)
    mkdir -p "$GUEST/kernels" "$GUEST/newest-build/kernels"
    cp "$(kernel_env_file newest)" "$GUEST/kernels/"
    cp "$(kernel_env_file newest)" "$GUEST/newest-build/kernels/"
    BUILD_DIR=$GUEST/newest-build "$HARNESS_DIR/build-modules.sh" newest >/dev/null
    # What DKMS installed for 6.12 (dkms.conf's three), not the test
    # modules that build-modules.sh builds too.
    rm -rf "${GUEST:?}/$krel"
    mkdir -p "$GUEST/$krel"
    for ko in "$GUEST/$(kernel_release "$FAMILY")"/*.ko; do
        cp "$GUEST/newest-build/$krel/$(basename "$ko")" "$GUEST/$krel/" ||
            die "build-modules.sh built no $(basename "$ko") for $krel"
    done
    for ko in "$GUEST/$krel"/*.ko; do
        "$SIGN_FILE" "$(sig_hash newest)" "$ROOT/var/lib/dkms/mok.key" \
            "$ROOT/var/lib/dkms/mok.pub" "$ko" || die "sign-file $ko failed"
        [ "$(sig_key_of "$ko")" = "$(cert_serial "$ROOT/var/lib/dkms/mok.pub")" ] && n=$((n + 1))
    done
    expect "newest ($krel): the three modules, built in the trixie chroot, signed with DKMS's key" \
        test "$n" -eq 3
}

main() {
    local deb=${1:-} debs tools_deb krel start
    start=$(date +%s)
    require_root
    mkdir -p "$LOG_DIR"
    if [ -z "$deb" ]; then
        debs=("$BUILD_DIR"/packages/dmabuf-core-dkms_*_all.deb)
        deb=${debs[-1]}
        # Packages of another tree than this one would test old code.
        if [ ! -f "$deb" ] ||
           [ "$(cat "$BUILD_DIR/packages/tree-stamp" 2>/dev/null)" != "$(tree_stamp)" ]; then
            log "secureboot: no packages of this tree yet: tests/harness/package.sh (log: $LOG_DIR/secureboot-package.log)"
            "$HARNESS_DIR/package.sh" >"$LOG_DIR/secureboot-package.log" 2>&1 ||
                { tail -n 20 "$LOG_DIR/secureboot-package.log"; die "package.sh failed"; }
            debs=("$BUILD_DIR"/packages/dmabuf-core-dkms_*_all.deb)
            deb=${debs[-1]}
        fi
    fi
    [ -f "$deb" ] || die "no dmabuf-core-dkms package $deb"
    tools_deb=$(ls "$(dirname "$deb")"/dmabuf-core-tools_*_amd64.deb 2>/dev/null | tail -n 1)
    [ -f "$tools_deb" ] || die "no dmabuf-core-tools package beside $deb"
    : >"$ROOT_LOG"
    "$HARNESS_DIR/deps.sh" >/dev/null
    host_apt_install ovmf mtools dosfstools fdisk openssl xz-utils python3
    # The base system knows both kernels' packages (make_base).
    "$HARNESS_DIR/kernels.sh" 6.1 >/dev/null
    "$HARNESS_DIR/kernels.sh" "$FAMILY" >/dev/null
    load_kernel_env "$FAMILY"
    krel=$KREL
    with_lock bookworm-base make_base
    trap 'umount_under "$ROOT"' EXIT
    timed "secureboot: a fresh copy of the bookworm system" fresh_root

    timed "secureboot: packages installed, DKMS built and signed" \
        install_packages "$deb" "$tools_deb" "$krel"
    stage_dkms_guest "$FAMILY" "$GUEST" ||
        fail "dmabuf-core-tools installed no /usr/bin/dmabuf-demo and dmabuf-ctl"
    SIGN_FILE=$KDIR/scripts/sign-file     # the 6.12 headers' (on the host)
    make_refusals "$FAMILY"
    prepare_firmware
    timed "secureboot: the $FAMILY guest" boot_secure "$FAMILY" "DKMS-built, DKMS-signed"
    if [[ " $SECUREBOOT_KERNELS " == *" newest "* ]]; then
        timed "secureboot: the newest kernel's modules" stage_newest
        make_refusals newest
        timed "secureboot: the newest guest" boot_secure newest "built in trixie, signed with DKMS's key"
    fi

    umount_under "$ROOT"
    rm -rf "$ROOT"
    trap - EXIT
    log "secureboot: done in $(($(date +%s) - start))s"
    summary
}

main "$@"; exit
