#!/usr/bin/env bash
# The README's commands against the places in CI that run them, so that the
# README cannot drift from what works (run by `make lint`).
#
#   tests/harness/readme-commands.sh
#
# Every line of a ```sh block of README.md that starts with a command (sudo
# and comments stripped; dkms.conf assignments and continuation lines are
# not commands) must match a row below: an extended regexp for the
# command, the file that runs it in CI, and an extended regexp that file
# must hold. A row whose file is "-" names a command CI cannot run here,
# with the reason. A README command without a row, or a row whose file no
# longer holds its pattern, fails.
# Prints one "readme: ..." line per problem and "readme: N problems" last.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# command regexp | file (from the top of the tree) | what that file holds
ROWS='^make demo$|.ci/run|^step demo$
^make check$|.ci/run|^make check </dev/null
^make demo ARCH=arm64$|.ci/run|^step demo ARCH=arm64$
^make KDIR=/usr/src/linux-headers-<release>-arm64 ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-$|tests/harness/lint.sh|make KDIR="\$KDIR" ARCH=arm64 CROSS_COMPILE=
^make$|tests/harness/upgrade.sh|readme_make "\$1" all
^apt-get install build-essential linux-headers-|tests/harness/upgrade.sh|root_install "\$\(headers_pkg 6\.1\)"
^insmod dmabuf_core\.ko$|tests/guest/run-tests.sh|insmod \$M/dmabuf_core\.ko
^insmod dmabuf_demo_exporter\.ko$|tests/guest/run-tests.sh|insmod \$M/dmabuf_demo_exporter\.ko
^insmod dmabuf_demo_importer\.ko dma_bits=64,32 max_seg_kb=0,64$|tests/guest/run-demo.sh|dmabuf_demo_importer\.ko dma_bits=64,32 max_seg_kb=0,64
^tests/harness/package\.sh$|Makefile|^	tests/harness/package\.sh$
^apt-get install \./build/packages/dmabuf-core-dkms_.*_all\.deb|tests/harness/upgrade.sh|root_install "/tmp/\$\(basename "\$deb"\)" "/tmp/\$\(basename "\$tools_deb"\)"
^modprobe dmabuf_demo_importer dma_bits=64,32 max_seg_kb=0,64$|tests/guest/run-dkms.sh|modprobe dmabuf_demo_importer dma_bits=64,32 max_seg_kb=0,64
^dmabuf-demo$|tests/guest/checks.sh|^[[:space:]]*/tests/dmabuf-demo >
^make install-dkms$|tests/harness/upgrade.sh|readme_make "\$1" install-dkms
^make uninstall-dkms$|tests/harness/upgrade.sh|readme_make "\$1" uninstall-dkms
^make && make install$|tests/harness/upgrade.sh|readme_make "\$1" install &&
^make uninstall$|tests/harness/upgrade.sh|readme_make "\$1" uninstall &&
^mokutil --sb-state$|-|mokutil needs the EFI variables of a real machine; the check-secureboot guest looks for the kernel line "Secure boot enabled" instead
^cat /sys/kernel/security/lockdown$|tests/guest/run-secureboot.sh|cat /sys/kernel/security/lockdown
^modprobe dmabuf_core$|-|a refusal needs a key the firmware does not trust; the check-secureboot guest insmods builds made so
^dmesg . tail -n 3$|tests/guest/run-secureboot.sh|dmesg . tail -n
^mokutil --import |-|enrolment needs MokManager at a console; check-secureboot writes MokList into the OVMF variables instead (tests/harness/mok-vars.py)
^reboot$|-|enrolment needs MokManager at a console; check-secureboot boots with MokList pre-seeded
^mokutil --test-key |-|mokutil needs the EFI variables of a real machine; the check-secureboot guest looks for the certificate loaded from MokListRT
^modprobe dmabuf_demo_importer$|tests/guest/run-secureboot.sh|modprobe dmabuf_demo_importer
^modinfo -F signer dmabuf_core$|tests/harness/upgrade.sh|modinfo -F sig_key
^cd /sys/kernel/tracing$|tests/lib/tap.h|/sys/kernel/tracing
^echo 1 >events/dmabuf_core/enable$|tests/t_trace.c|events/dmabuf_core
^cat trace_pipe$|tests/t_trace.c|trace'

PROBLEMS=0
problem() {
    echo "readme: $*"
    PROBLEMS=$((PROBLEMS + 1))
}

# The commands of the README's sh blocks, one a line.
readme_commands() {
    awk '/^```sh/ { on = 1; next } /^```/ { on = 0 } on' "$REPO_ROOT/README.md" |
        sed -E 's/[[:space:]]+#.*$//; s/^[[:space:]]*sudo //; s/ && sudo / \&\& /' |
        grep -vE '^[[:space:]]*$|^[[:space:]]|^#|^[A-Z_]+(\[[0-9]+\])?='
}

main() {
    local cmd row re file want hit
    while IFS= read -r cmd; do
        hit=
        while IFS='|' read -r re file want; do
            if printf '%s\n' "$cmd" | grep -qE -- "$re"; then
                hit=1
                break
            fi
        done <<<"$ROWS"
        if [ -z "$hit" ]; then
            problem "README command with no place in CI: $cmd (add it to $0)"
        elif [ "$file" = - ]; then
            echo "readme: not run here: $cmd ($want)"
        elif ! grep -qE -- "$want" "$REPO_ROOT/$file"; then
            problem "README command '$cmd': $file no longer runs it (looked for: $want)"
        fi
    done < <(readme_commands)
    # A row whose command left the README is stale.
    while IFS='|' read -r re file want; do
        readme_commands | grep -qE -- "$re" || problem "no README command matches the row '$re'"
    done <<<"$ROWS"
    echo "readme: $PROBLEMS problems"
    [ "$PROBLEMS" -eq 0 ]
}

main; exit
