#!/usr/bin/env bash
# Boot one kernel family under QEMU (TCG) with its initramfs; the serial
# console goes to build/logs/FAMILY.log (FAMILY-MODE.log in the other modes).
# The guest's own output has a serial port of its own (ttyS1), written to
# build/logs/FAMILY[-MODE].results, and the kernel command line carries a fresh
# nonce (dmabuf_harness.nonce) that the guest's done marker must repeat.
#
#   tests/harness/boot.sh FAMILY [tests|nobounce|stress|demo|iommu-translated|iommu-identity|bench|
#                                 dkms|secureboot]
#
# The iommu modes boot a q35 machine with QEMU's intel-iommu and its edu
# PCI device (tests/t_iommu.c), the IOMMU translating or in passthrough.
# arm64 families boot qemu-system-aarch64's virt machine (cortex-a72: `max`
# spends seconds per boot emulating pointer authentication), console on its
# PL011 (ttyAMA0), the script's port a 16550 on PCI (ttyS0: built into
# every Debian arm64 kernel, where 6.1's virtio console is a module); the iommu
# modes put the edu device behind the virt machine's SMMUv3.
# secureboot boots no -kernel: OVMF with Secure Boot on (SB_CODE, a copy of
# SB_VARS: secureboot.sh pre-seeds the MOK there) runs the signed shim
# (SB_SHIM) from an EFI system partition, shim the signed grub (SB_GRUB),
# grub the signed vmlinuz with the initramfs and the command line below; on
# one vCPU (GUEST_CPUS 1: two were slower under OVMF). A boot chain that
# refuses an image stops the boot at once (grub would wait for a key).
#
# No retries: a boot that dies is a result, not noise.
# Knobs: BOOT_TIMEOUT (seconds, default 600), GUEST_MEM (default 6G: a test
# needs RAM above 4 GiB), GUEST_CPUS (2; secureboot 1), EXTRA_APPEND (more kernel args),
# TCG_THREAD (single, the default: one host thread runs every vCPU, which
# the stock kernels need; multi: one host thread per vCPU, truly parallel
# CPUs, used for the debug kernel: tests/harness/README.md says why).
# PROG_TIMEOUT: seconds one test program may run (default 300; the guest's
# watchdog dumps the task states and kills it after that).
# Writes build/logs/<name>.status with QEMU's exit code, the seconds taken
# and the nonce.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

FAMILY=${1:-}
MODE=${2:-tests}
check_family "$FAMILY"

BOOT_TIMEOUT=${BOOT_TIMEOUT:-600}
GUEST_MEM=${GUEST_MEM:-6G}
GUEST_CPUS=${GUEST_CPUS:-$([ "$MODE" = secureboot ] && echo 1 || echo 2)}
TCG_THREAD=${TCG_THREAD:-single}
case "$TCG_THREAD" in single|multi) ;; *) die "TCG_THREAD must be single or multi" ;; esac
PROG_TIMEOUT=${PROG_TIMEOUT:-300}
NONCE=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')

kernel_cmdline() {
    local console=ttyS0
    [ "$KARCH" = arm64 ] && console=ttyAMA0
    local args=("console=$console" panic=-1 quiet
        # quiet hides KERN_WARNING (level 4) and above; WARN() splats and
        # refcount_t warnings are level 4: show up to warnings on the console.
        loglevel=5 panic_on_warn=1
        # Room for the whole run's messages: the guest reads dmesg back.
        log_buf_len=4M
        dmabuf_harness.nonce="$NONCE" dmabuf_harness.prog_timeout="$PROG_TIMEOUT")
    # Generic KASAN (the debug kernel) keeps freed slab objects in its
    # quarantine: the MemFree leak checks then leave unreclaimable slab out
    # (kmemleak finds slab leaks there) and keep their tolerances.
    if grep -qx 'CONFIG_KASAN_GENERIC=y' "$KCONFIG"; then
        args+=(dmabuf_harness.slab_quarantine=1)
    fi
    # Benchmarks measure the kernel as its users boot it. Every other mode
    # checks: slab debugging, and Debian's zeroing of every page allocation
    # turned off so a missing __GFP_ZERO shows as non-zero buffer contents.
    if [ "$MODE" != bench ]; then
        args+=(slub_debug=FZPU init_on_alloc=0)
        if grep -qx 'CONFIG_KFENCE=y' "$KCONFIG"; then
            args+=(kfence.sample_interval=1)
        fi
    fi
    # A CMA area on every kernel with CMA for the DMA API, the one 7.3 on
    # amd64 lacks by default too, sized so that t_contig takes runs up to
    # 256 MiB from it and finds its limit below 512 MiB.
    if [ "$MODE" = tests ] && grep -qx 'CONFIG_DMA_CMA=y' "$KCONFIG"; then
        args+=(cma=320M)
    fi
    # nobounce: every direct DMA mapping would bounce (tests/t_nobounce.c).
    # arm64 sizes the pool itself: a kernel there may have none otherwise.
    if [ "$MODE" = nobounce ]; then
        if [ "$KARCH" = arm64 ]; then args+=("swiotlb=65536,force"); else args+=(swiotlb=force); fi
    fi
    # The edu device behind a translating IOMMU (strict: unmapped at
    # once), or behind one in passthrough (identity domains); on amd64
    # that is intel-iommu, which needs turning on.
    case "$MODE" in
        iommu-*) [ "$KARCH" = arm64 ] || args+=(intel_iommu=on) ;;
    esac
    case "$MODE" in
        iommu-translated) args+=(iommu.passthrough=0 iommu.strict=1
                                 dmabuf_harness.iommu_translated=1) ;;
        iommu-identity) args+=(iommu.passthrough=1
                               dmabuf_harness.iommu_translated=0) ;;
    esac
    echo "${args[*]}${EXTRA_APPEND:+ $EXTRA_APPEND}"
}

# secureboot: the EFI system partition as Debian lays it out (shim as the
# removable-media loader, grub beside it, grub.cfg where the signed grub's
# built-in config looks: /EFI/debian, and /EFI/BOOT), with vmlinuz and the
# initramfs, on a GPT disk image $1. mtools and sfdisk: no loop mounts.
secureboot_disk() {
    local disk=$1 initrd=$2 dir esp mb f
    for f in "$SB_CODE" "$SB_VARS" "$SB_SHIM" "$SB_GRUB"; do
        [ -f "$f" ] || die "secureboot: no '$f' (SB_CODE, SB_VARS, SB_SHIM, SB_GRUB: secureboot.sh sets them)"
    done
    dir=$(dirname "$disk")
    esp=$disk.esp
    mkdir -p "$dir"
    # grub runs these lines itself: no menu, no wait.
    printf 'set timeout=0\nlinux /vmlinuz %s\ninitrd /initrd.gz\nboot\n' \
        "$(kernel_cmdline)" >"$dir/grub.cfg"
    # The files plus room for FAT's own structures, in MiB.
    mb=$(( $(du -cm "$VMLINUZ" "$initrd" "$SB_SHIM" "$SB_GRUB" | tail -n 1 | cut -f 1) + 8 ))
    rm -f "$esp" "$disk"
    mkfs.vfat -C "$esp" $((mb * 1024)) >/dev/null || die "mkfs.vfat failed"
    mmd -i "$esp" ::/EFI ::/EFI/BOOT ::/EFI/debian &&
        mcopy -i "$esp" "$SB_SHIM" ::/EFI/BOOT/BOOTX64.EFI &&
        mcopy -i "$esp" "$SB_GRUB" ::/EFI/BOOT/grubx64.efi &&
        mcopy -i "$esp" "$dir/grub.cfg" ::/EFI/BOOT/grub.cfg &&
        mcopy -i "$esp" "$dir/grub.cfg" ::/EFI/debian/grub.cfg &&
        mcopy -i "$esp" "$VMLINUZ" ::/vmlinuz &&
        mcopy -i "$esp" "$initrd" ::/initrd.gz || die "mcopy to the EFI system partition failed"
    # One partition from 1 MiB, and 1 MiB after it for the backup GPT.
    truncate -s $((mb + 2))M "$disk"
    echo "start=2048, size=$((mb * 2048)), type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B" |
        sfdisk -q -X gpt "$disk" >/dev/null || die "sfdisk failed"
    dd if="$esp" of="$disk" bs=1M seek=1 conv=notrunc status=none
    rm -f "$esp"
    # The firmware writes its variables: each boot gets its own copy.
    cp "$SB_VARS" "$disk.vars"
}

# What the firmware, shim or grub print when they refuse an image; grub
# then waits for a key forever.
CHAIN_REFUSED='bad shim signature|Security Violation|Press any key to continue'

# secureboot: run QEMU ($@) in the background with its console in $1; stop
# it as soon as the console shows the boot chain refusing. Returns QEMU's
# status (143 when stopped here). The other modes run QEMU directly.
run_watched() {
    local log=$1 pid rc=0
    shift
    "$@" </dev/null >"$log" 2>&1 &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        if tr -d '\r' <"$log" | grep -qE "$CHAIN_REFUSED"; then
            warn "$FAMILY: the boot chain stopped: $(tr -d '\r' <"$log" | grep -oE "$CHAIN_REFUSED" | head -n 1)"
            sleep 2     # what follows the message, for the log
            kill "$pid" 2>/dev/null || true
            break
        fi
        sleep 1
    done
    wait "$pid" || rc=$?
    return "$rc"
}

main() {
    local name initrd log status start rc=0 secs results serial machine=() boot=() qemu
    load_kernel_env "$FAMILY"
    KARCH=${KARCH:-amd64}
    name=$FAMILY
    [ "$MODE" = tests ] || name=$FAMILY-$MODE
    initrd=$BUILD_DIR/initramfs/$FAMILY-$MODE.cpio.gz
    [ -f "$initrd" ] || die "no $initrd: run initramfs.sh $FAMILY $MODE first"
    mkdir -p "$LOG_DIR"
    log=$LOG_DIR/$name.log
    status=$LOG_DIR/$name.status
    results=$LOG_DIR/$name.results
    rm -f "$results"
    # The kernel's console, then the guest script's own port (ttyS1; on
    # arm64 a PCI serial port, ttyS0).
    serial=(-serial mon:stdio -serial "file:$results")
    if [ "$KARCH" = arm64 ]; then
        serial=(-serial mon:stdio -chardev "file,id=results,path=$results"
                -device "pci-serial,chardev=results")
        machine=(-machine virt -cpu cortex-a72)
    fi
    case "$MODE" in
        iommu-*) if [ "$KARCH" = arm64 ]; then
                     machine=(-machine "virt,iommu=smmuv3" -cpu cortex-a72
                              -device "edu,dma_mask=0xffffffff")
                 else
                     machine=(-machine q35 -device intel-iommu,intremap=off
                              -device edu,dma_mask=0xffffffff)
                 fi ;;
        # Guest RAM backed by host memory from the start: the first guest
        # touch of a page otherwise costs a host page fault and zeroing,
        # 10-20 times an allocation's own cost, charged to whichever
        # contender happens to get never-used pages first.
        bench) machine+=(-mem-prealloc) ;;
        # SMM and a secure flash: OVMF's Secure Boot variables are then
        # writable only by the firmware itself.
        secureboot)
            secureboot_disk "$BUILD_DIR/secureboot/$FAMILY.disk" "$initrd"
            machine=(-machine q35,smm=on -global driver=cfi.pflash01,property=secure,value=on
                     -global ICH9-LPC.disable_s3=1
                     -drive "if=pflash,format=raw,unit=0,readonly=on,file=$SB_CODE"
                     -drive "if=pflash,format=raw,unit=1,file=$BUILD_DIR/secureboot/$FAMILY.disk.vars"
                     -drive "if=virtio,format=raw,file=$BUILD_DIR/secureboot/$FAMILY.disk") ;;
    esac
    if [ "$MODE" != secureboot ]; then
        boot=(-kernel "$VMLINUZ" -initrd "$initrd" -append "$(kernel_cmdline)")
    fi

    log "booting $KREL ($FAMILY, $MODE, tcg thread=$TCG_THREAD); console: $log"
    start=$(date +%s)
    # stdin from /dev/null: QEMU must not grab (or wait on) a terminal.
    local system=qemu-system-x86_64
    [ "$KARCH" = arm64 ] && system=qemu-system-aarch64
    qemu=(timeout -k 10 "$BOOT_TIMEOUT"
        "$system" -accel tcg,thread="$TCG_THREAD"
        -m "$GUEST_MEM" -smp "$GUEST_CPUS" "${machine[@]}"
        -display none -no-reboot "${serial[@]}" "${boot[@]}")
    if [ "$MODE" = secureboot ]; then
        run_watched "$log" "${qemu[@]}" || rc=$?
    else
        "${qemu[@]}" </dev/null >"$log" 2>&1 || rc=$?
    fi
    secs=$(($(date +%s) - start))
    printf 'rc=%s\nseconds=%s\ntimeout=%s\nnonce=%s\ntcg_thread=%s\n' \
        "$rc" "$secs" "$BOOT_TIMEOUT" "$NONCE" "$TCG_THREAD" >"$status"
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        warn "$FAMILY: QEMU killed after ${BOOT_TIMEOUT}s (guest hung?)"
    elif [ "$rc" -ne 0 ]; then
        warn "$FAMILY: QEMU exited with status $rc"
    fi
    log "$FAMILY: guest ran ${secs}s"
}

main; exit
