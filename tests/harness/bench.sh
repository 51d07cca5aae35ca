#!/usr/bin/env bash
# `make bench`: boot each kernel once in mode bench (tests/guest/run-bench.sh)
# and turn the guest's BENCH lines into tables, a plot of ours/peer against
# size, and a results file.
#
#   tests/harness/bench.sh                 6.12 newest 6.1
#   BENCH_KERNELS="6.12" BENCH_REPS=20 tests/harness/bench.sh   (a quick look)
#
# BENCH_REPS: percent of each benchmark's default repetitions (100).
# BENCH_PARTS: which benchmarks, a subset of "alloc map interop api move"
# (default all): BENCH_PARTS=api runs only the kernel-API one (minutes,
# not an hour); the run then expects only those benchmarks' check names.
# BENCH_PROFILE=1: after the kernel-API bench, a function_graph trace of
# each kernel-API call, ours and the kernel's, to BENCH_GRAPH_DEPTH levels
# (default 3), in build/bench/FAMILY-profile.txt (tracing inflates the
# times; the figures of the bench itself are taken before, untraced).
# Output under build/bench/: FAMILY.txt (the table), FAMILY.dat (the
# figures), ratio-FAMILY.png (gnuplot, Debian's gnuplot-nox), results.md
# (every kernel's table, with the date and kernel releases).
# The figures never fail the run: a guest that crashes, prints a kernel
# problem report or cannot run a benchmark's operations does (verdict.sh).
# Under TCG only ratios mean anything; the tables say so. The guests' RAM
# is preallocated (boot.sh): a page the guest touches for the first time
# otherwise costs the host a page fault and zeroing, many times an
# allocation's own cost, charged to whichever contender gets it first.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

BENCH_KERNELS=${BENCH_KERNELS:-6.12 newest 6.1}
BENCH_REPS=${BENCH_REPS:-100}
BENCH_PARTS=${BENCH_PARTS:-alloc map interop api move}
BENCH_PROFILE=${BENCH_PROFILE:-0}
BENCH_GRAPH_DEPTH=${BENCH_GRAPH_DEPTH:-3}
BENCH_DIR=$BUILD_DIR/bench

# awk functions the tables share: sizes and times in human units, a
# field=value of a BENCH line (from the 5th field on), a median with its
# spread (half the interquartile range, in percent of the median) from the
# med/p25/p75 arrays, and the ratio of two medians.
AWK_HELPERS='
function human(b) {
    if (b >= 1073741824) return sprintf("%d GiB", b / 1073741824)
    if (b >= 1048576) return sprintf("%d MiB", b / 1048576)
    return sprintf("%d KiB", b / 1024)
}
function t(ns) {
    if (ns >= 1e9) return sprintf("%.2f s", ns / 1e9)
    if (ns >= 1e6) return sprintf("%.2f ms", ns / 1e6)
    return sprintf("%.2f us", ns / 1e3)
}
function field(name,   i, kv) {
    for (i = 5; i <= NF; i++) { split($i, kv, "="); if (kv[1] == name) return kv[2] + 0 }
    return ""
}
function keep(k) { med[k] = field("median_ns"); p25[k] = field("p25_ns"); p75[k] = field("p75_ns") }
function cell(k) {
    if (!(k in med)) return sprintf("%18s", "-")
    return sprintf("%10s %5s", t(med[k]),
        sprintf("±%d%%", (med[k] ? 50 * (p75[k] - p25[k]) / med[k] : 0) + 0.5))
}
function ratio(a, b) {
    if (!(a in med) || !(b in med) || !med[b]) return sprintf("%6s", "-")
    return sprintf("%6.2f", med[a] / med[b])
}
'

# The table of one guest run, from its results file on stdin.
bench_table() {
    awk "$AWK_HELPERS"'
    $1 == "BENCH" && $2 == "alloc" {
        size = $3
        if (!(size in seen)) { seen[size] = 1; sizes[n++] = size }
        reps[size] = field("reps")
        keep(size SUBSEP $4)
    }
    END {
        print "Allocation: medians (± half the interquartile range), ratio = ours/heap."
        print "alloc = ALLOC + close; touch = ALLOC + mmap + one write per page + munmap + close;"
        print "memset = zeroing the same bytes; anon = anonymous mmap + touch + munmap."
        print "Under TCG (no KVM) only the ratios mean anything."
        printf "%-8s %5s %18s %18s %6s %18s %18s %6s %18s %18s\n", "size", "reps",
            "ours-alloc", "heap-alloc", "ratio", "ours-touch", "heap-touch", "ratio",
            "memset", "anon"
        for (i = 0; i < n; i++) {
            s = sizes[i]
            printf "%-8s %5s %s %s %s %s %s %s %s %s\n", human(s), reps[s],
                cell(s SUBSEP "ours-alloc"), cell(s SUBSEP "heap-alloc"),
                ratio(s SUBSEP "ours-alloc", s SUBSEP "heap-alloc"),
                cell(s SUBSEP "ours-touch"), cell(s SUBSEP "heap-touch"),
                ratio(s SUBSEP "ours-touch", s SUBSEP "heap-touch"),
                cell(s SUBSEP "memset"), cell(s SUBSEP "anon")
        }
        for (i = 0; i < n; i++) if ((sizes[i] SUBSEP "contig-touch") in med) nc++
        if (!nc) exit
        print ""
        print "Contiguous: /dev/dmabuf-contig ALLOC + SYNC START (places one run) + mmap + touch"
        print "+ munmap + SYNC END + close, against ours-touch (the same bytes in chunks); up to"
        print "the largest run. No Debian kernel has a CMA heap to compare with."
        printf "%-8s %18s %18s %6s\n", "size", "contig-touch", "ours-touch", "ratio"
        for (i = 0; i < n; i++) {
            s = sizes[i]
            if (!((s SUBSEP "contig-touch") in med)) continue
            printf "%-8s %s %s %s\n", human(s), cell(s SUBSEP "contig-touch"),
                cell(s SUBSEP "ours-touch"), ratio(s SUBSEP "contig-touch", s SUBSEP "ours-touch")
        }
    }'
}

# The mapping tables (b_map): sg entries and mmap setup per size, then CPU
# bandwidth through the mappings.
map_table() {
    awk "$AWK_HELPERS"'
    $1 == "BENCH" && $2 == "sg" { seg[$3, $4] = field("segments"); if (!($3 in seen)) { seen[$3] = 1; sizes[n++] = $3 } }
    $1 == "BENCH" && $2 == "mmap" { keep($3 SUBSEP $4); mreps[$3] = field("reps"); if (!($3 in seen)) { seen[$3] = 1; sizes[n++] = $3 } }
    $1 == "BENCH" && $2 == "bw" { keep("bw" $3 SUBSEP $4); bwreps = field("reps"); bytes = field("bytes") }
    $1 == "BENCH" && $2 == "frag" { keep("frag" SUBSEP $4); fseg[$4] = field("segments"); freps = field("reps"); fsize = $3 }
    $1 == "BENCH" && $2 == "fragfree" { ffree = field("free_mib"); f64k = field("in64k_mib"); f1m = field("in1m_mib") }
    END {
        print "Mapping: sg entries as the demo importer maps each buffer; mmap() setup alone."
        printf "%-8s %8s %8s %5s %18s %18s %6s\n", "size", "sg ours", "sg heap", "reps",
            "mmap ours", "mmap heap", "ratio"
        for (i = 0; i < n; i++) {
            s = sizes[i]
            printf "%-8s %8s %8s %5s %s %s %s\n", human(s),
                (s SUBSEP "ours") in seg ? seg[s, "ours"] : "-",
                (s SUBSEP "heap") in seg ? seg[s, "heap"] : "-", mreps[s],
                cell(s SUBSEP "ours"), cell(s SUBSEP "heap"),
                ratio(s SUBSEP "ours", s SUBSEP "heap")
        }
        if (bytes) {
            print ""
            printf "CPU bandwidth through a touched mapping of %s, %s reps; ratio = anon/ours\n", human(bytes), bwreps
            print "(1.00: as fast as anonymous memory; above: faster)."
            printf "%-6s %18s %18s %18s %9s %9s\n", "", "ours", "heap", "anon", "anon/ours", "anon/heap"
            split("write read", ops, " ")
            for (j = 1; j <= 2; j++) {
                o = ops[j]
                printf "%-6s %s %s %s %9s %9s\n", o, cell("bw" o SUBSEP "ours"),
                    cell("bw" o SUBSEP "heap"), cell("bw" o SUBSEP "anon"),
                    ratio("bw" o SUBSEP "anon", "bw" o SUBSEP "ours"),
                    ratio("bw" o SUBSEP "anon", "bw" o SUBSEP "heap")
            }
        }
        if (fsize) {
            print ""
            printf "Fragmented memory: ALLOC of %s, %s reps each, interleaved, after the\n", human(fsize), freps
            printf "fragmenter left %s MiB free: %s MiB in blocks of 64 KiB or more, %s MiB of 1 MiB or more.\n", ffree, f64k, f1m
            printf "%-6s %18s %8s\n", "", "alloc", "sg"
            printf "%-6s %s %8s\n", "ours", cell("frag" SUBSEP "ours"), fseg["ours"]
            printf "%-6s %s %8s\n", "heap", cell("frag" SUBSEP "heap"), fseg["heap"]
            printf "%-6s %18s\n", "ratio", ratio("frag" SUBSEP "ours", "frag" SUBSEP "heap")
        }
    }'
}

# The kernel's own importers with each buffer (b_interop): vgem's PRIME
# import and close, vivid's QBUF and STREAMOFF.
interop_table() {
    awk "$AWK_HELPERS"'
    $1 == "BENCH" && ($2 == "prime" || $2 == "primeclose" || $2 == "qbuf" || $2 == "streamoff") {
        k = $2 SUBSEP $3
        if (!(k in seen)) { seen[k] = 1; rows[n++] = k; what[k] = $2; size[k] = $3 }
        keep(k SUBSEP $4); reps[k] = field("reps")
    }
    END {
        if (!n) exit
        print "The kernel'"'"'s own importers, ratio = ours/heap: vgem PRIME_FD_TO_HANDLE (attach +"
        print "map) and GEM_CLOSE (unmap + detach); vivid QBUF (videobuf2 maps the buffer)"
        print "and STREAMOFF with it queued, on a buffer vivid has attached; frame-sized."
        printf "%-11s %-8s %5s %18s %18s %6s\n", "op", "size", "reps", "ours", "heap", "ratio"
        for (i = 0; i < n; i++) {
            k = rows[i]
            printf "%-11s %-8s %5s %s %s %s\n", what[k], human(size[k]), reps[k],
                cell(k SUBSEP "ours"), cell(k SUBSEP "heap"), ratio(k SUBSEP "ours", k SUBSEP "heap")
        }
    }'
}

# The kernel API table (dmabuf_bench.ko): per operation, ours against the
# kernel's dma-buf, with 1 and with 100,000 more live buffers.
api_table() {
    awk "$AWK_HELPERS"'
    $1 == "BENCH" && $2 == "api" {
        l = field("live")
        keep($3 SUBSEP $4 SUBSEP l)
        reps = field("reps")
        if (!($3 in seen)) { seen[$3] = 1; ops[n++] = $3 }
        if (!(l in lseen)) { lseen[l] = 1; lives[nl++] = l }
    }
    END {
        if (!n) exit
        printf "Kernel API per call, %s reps; ratio = core/kernel; flat = core with the\n", reps
        printf "most live buffers / core with the fewest (1.00: O(1)).\n"
        hdr = sprintf("%-7s", "op")
        for (j = 0; j < nl; j++)
            hdr = hdr sprintf(" %18s %18s %6s", "core +" lives[j], "kernel +" lives[j], "ratio")
        print hdr "   flat"
        for (i = 0; i < n; i++) {
            o = ops[i]; line = sprintf("%-7s", o)
            for (j = 0; j < nl; j++)
                line = line sprintf(" %s %s %s", cell(o SUBSEP "core" SUBSEP lives[j]),
                    cell(o SUBSEP "kernel" SUBSEP lives[j]),
                    ratio(o SUBSEP "core" SUBSEP lives[j], o SUBSEP "kernel" SUBSEP lives[j]))
            print line " " ratio(o SUBSEP "core" SUBSEP lives[nl - 1], o SUBSEP "core" SUBSEP lives[0])
        }
    }'
}

# Moves of a /dev/dmabuf buffer's storage (b_move): the 32-bit importer's
# ATTACH against the floors of the same bytes.
move_table() {
    awk "$AWK_HELPERS"'
    $1 == "BENCH" && $2 == "move" { keep($3 SUBSEP $4); reps[$3] = field("reps"); if (!($3 in seen)) { seen[$3] = 1; sizes[n++] = $3 } }
    $1 == "BENCH" && $2 == "movecheck" { unmoved[$3] = field("unmoved") }
    END {
        if (!n) exit
        print "Moves: a /dev/dmabuf buffer above 4 GiB moved below by the 32-bit importer'"'"'s"
        print "ATTACH (new zeroed storage, copy, old freed), against ALLOC + close of as many"
        print "bytes, memcpy of them in the process, and memset + memcpy; ratios = move /"
        print "contender (under TCG the process'"'"'s memcpy runs slower than the kernel'"'"'s)."
        printf "%-8s %4s %18s %18s %18s %18s %7s %7s %7s %8s\n", "size", "reps", "move", "alloc",
            "memcpy", "memset+memcpy", "/alloc", "/memcpy", "/ms+mc", "unmoved"
        for (i = 0; i < n; i++) {
            s = sizes[i]
            printf "%-8s %4s %s %s %s %s %7s %7s %7s %8s\n", human(s), reps[s],
                cell(s SUBSEP "move"), cell(s SUBSEP "alloc"), cell(s SUBSEP "memcpy"),
                cell(s SUBSEP "memset+memcpy"), ratio(s SUBSEP "move", s SUBSEP "alloc"),
                ratio(s SUBSEP "move", s SUBSEP "memcpy"),
                ratio(s SUBSEP "move", s SUBSEP "memset+memcpy"), unmoved[s]
        }
    }'
}

# The pieces of the kernel-API calls (dmabuf_bench prims=1, with
# BENCH_PROFILE=1), each timed alone.
prim_table() {
    awk "$AWK_HELPERS"'
    $1 == "BENCH" && $2 == "prim" { keep($3); reps = field("reps"); names[n++] = $3 }
    END {
        if (!n) exit
        printf "The pieces of those calls, %s reps of each pair (take and drop, allocate\n", reps
        print "and free), one ktime_get_ns() pair included (clock: that pair alone)."
        print "call: an empty callback through a pointer; record: kzalloc + kfree of 128"
        print "bytes, charged (our attachment); krecord: of a struct dma_buf_attachment,"
        print "uncharged (the kernel'"'"'s); mutex: the buffer'"'"'s lock; resv: dma_resv_lock;"
        print "devref: get_device + put_device; fileref: get_dma_buf + dma_buf_put;"
        print "modref: try_module_get + module_put."
        for (i = 0; i < n; i++) printf "%-8s %s\n", names[i], cell(names[i])
    }'
}

# size ratio-alloc ratio-touch, one line per size with a heap figure.
bench_ratios() {
    awk '$1 == "BENCH" && $2 == "alloc" {
            for (i = 5; i <= NF; i++) if ($i ~ /^median_ns=/) m[$3, $4] = substr($i, 11)
            if (!($3 in seen)) { seen[$3] = 1; sizes[n++] = $3 }
        }
        END {
            for (i = 0; i < n; i++) {
                s = sizes[i]
                if (m[s, "heap-alloc"] && m[s, "heap-touch"])
                    printf "%s %.4f %.4f\n", s, m[s, "ours-alloc"] / m[s, "heap-alloc"],
                        m[s, "ours-touch"] / m[s, "heap-touch"]
            }
        }'
}

plot_ratios() {   # plot_ratios FAMILY RELEASE
    local fam=$1 krel=$2 dat=$BENCH_DIR/$1.dat
    [ -s "$dat" ] || return 0
    gnuplot <<EOF
set terminal pngcairo size 800,480
set output "$BENCH_DIR/ratio-$fam.png"
set title "dmabuf-core / kernel system heap, $krel (TCG: ratios only)"
set logscale x 2
set xlabel "buffer size"
set xtics ("4K" 4096, "64K" 65536, "1M" 1048576, "8M" 8388608, "64M" 67108864, \\
           "256M" 268435456, "1G" 1073741824)
set ylabel "time ours / time heap (median)"
set yrange [0:*]
set grid
set key top left
plot "$dat" using 1:2 with linespoints title "alloc + free", \\
     "$dat" using 1:3 with linespoints title "alloc + mmap + touch + free", \\
     1 with lines dashtype 2 title "parity"
EOF
}

# The check names of the parts left out, as patterns for grep -v of
# expected-bench.txt (the names of tests/guest/run-bench.sh).
skipped_names() {
    local part
    for part in alloc map interop api move; do
        case " $BENCH_PARTS " in *" $part "*) continue ;; esac
        case $part in
            alloc) echo 'b_alloc ran' ;;
            map) echo 'b_map ran' ;;
            interop) printf '%s\n' 'b_interop ran' 'stock vgem' 'stock vivid' 'vgem and vivid' ;;
            api) echo 'dmabuf_bench with' ;;
            move) echo 'b_move ran' ;;
        esac
    done
}

main() {
    local fam krel results rc=0 pass fail ran=() part skip expected
    require_root
    "$HARNESS_DIR/deps.sh"
    host_apt_install gnuplot-nox
    log "building test programs (tests/Makefile)"
    build_guest_programs amd64 || die "building the test programs failed"
    for part in $BENCH_PARTS; do
        case $part in alloc|map|interop|api|move) ;; *) die "BENCH_PARTS: no part '$part'" ;; esac
    done
    mkdir -p "$BENCH_DIR"
    expected=$REPO_ROOT/tests/guest/expected-bench.txt
    skip=$(skipped_names)
    if [ -n "$skip" ]; then
        grep -vF "$skip" "$expected" >"$BENCH_DIR/expected-bench.txt" || true
        expected=$BENCH_DIR/expected-bench.txt
    fi
    {
        echo "# make bench results"
        echo
        echo "Run on $(date -u '+%Y-%m-%d %H:%M UTC'), QEMU TCG (no KVM), guests -smp 2 -m 6G"
        echo "with their RAM preallocated (-mem-prealloc), BENCH_REPS=$BENCH_REPS%, the kernels' own"
        echo "boot options (no slab debugging, no KFENCE sampling, Debian's init_on_alloc)."
        echo "Under TCG only the ratios mean anything. Benchmarks: $BENCH_PARTS."
    } >"$BENCH_DIR/results.md"
    for fam in $BENCH_KERNELS; do
        check_family "$fam"
        "$HARNESS_DIR/kernels.sh" "$fam"
        krel=$(kernel_release "$fam")
        "$HARNESS_DIR/build-modules.sh" "$fam" >/dev/null
        "$HARNESS_DIR/initramfs.sh" "$fam" bench >/dev/null
        EXTRA_APPEND="${EXTRA_APPEND:+$EXTRA_APPEND }dmabuf_harness.bench_reps=$BENCH_REPS\
 dmabuf_harness.bench_parts=$(echo $BENCH_PARTS | tr ' ' ,)\
 dmabuf_harness.bench_profile=$BENCH_PROFILE dmabuf_harness.bench_graph_depth=$BENCH_GRAPH_DEPTH" \
            BOOT_TIMEOUT=${BOOT_TIMEOUT:-3600} "$HARNESS_DIR/boot.sh" "$fam" bench
        EXPECTED_MODE_NAMES=$expected "$HARNESS_DIR/verdict.sh" "$fam" bench || true
        read -r pass fail <"$LOG_DIR/$fam-bench.tally"
        [ "$fail" -eq 0 ] || rc=1
        results=$LOG_DIR/$fam-bench.results
        if [ "$BENCH_PROFILE" = 1 ]; then
            sed -n 's/^PROFILE //p' "$results" >"$BENCH_DIR/$fam-profile.txt"
        fi
        { bench_table <"$results"; echo; map_table <"$results"; echo
          interop_table <"$results"; echo; api_table <"$results"; echo
          move_table <"$results"
          if [ "$BENCH_PROFILE" = 1 ]; then echo; prim_table <"$results"; fi
        } >"$BENCH_DIR/$fam.txt"
        bench_ratios <"$results" >"$BENCH_DIR/$fam.dat"
        plot_ratios "$fam" "$krel"
        {
            echo
            echo "## $krel ($fam)"
            echo
            echo '```'
            cat "$BENCH_DIR/$fam.txt"
            echo '```'
        } >>"$BENCH_DIR/results.md"
        echo
        echo "======== $krel ($fam) ========"
        cat "$BENCH_DIR/$fam.txt"
        ran+=("$fam")
    done
    echo
    log "bench: ${ran[*]:-none} (tables, plots and results.md in $BENCH_DIR)"
    return $rc
}

main; exit
