#!/usr/bin/env bash
# Build the kernel's own dmabuf-heaps kselftest, unmodified, from Debian's
# newest linux-source-* package, as a static program the guests run on
# /dev/dma_heap (our entry there comes from the udev rule).
#
#   tests/harness/kselftest.sh OUTDIR [CC]
#
# CC (default gcc) cross-builds it, e.g. aarch64-linux-gnu-gcc for arm64.
#
# Writes OUTDIR/k_dmabuf-heap.  The source tree is unpacked once per
# package version under $CACHE_DIR/kselftest/.  The program's <drm/drm.h>
# comes from the same tree's include/uapi (Debian 12 ships no DRM uapi
# headers outside libdrm); every other header is the host's.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

OUT=${1:?usage: kselftest.sh OUTDIR [CC]}
KCC=${2:-gcc}

main() {
    local dir
    dir=$(unpack_linux_source kselftest \
        '*/tools/testing/selftests/kselftest.h' \
        '*/tools/testing/selftests/dmabuf-heaps/*' '*/include/uapi/drm/*')
    mkdir -p "$OUT" "$dir/uapi"
    rm -rf "$dir/uapi/drm"
    cp -r "$dir/include/uapi/drm" "$dir/uapi/drm"
    # The flags of the kselftest's own Makefile, with our include path.
    # Raw uapi headers still carry __user, which headers_install strips.
    "$KCC" -static -O3 -Wl,-no-as-needed -Wall -D__user= -idirafter "$dir/uapi" \
        -o "$OUT/k_dmabuf-heap" \
        "$dir/tools/testing/selftests/dmabuf-heaps/dmabuf-heap.c"
    log "built k_dmabuf-heap from ${dir##*/} ($KCC)"
}

main; exit
