#!/bin/sh
# Runs in the Secure Boot guest (tests/harness/secureboot.sh): Debian's
# signed kernel, booted by OVMF with Secure Boot on through Debian's signed
# shim and grub, DKMS's certificate pre-seeded as a machine owner key. The
# modules DKMS built and signed are where DKMS installs them; /refuse holds
# copies of dmabuf_core the locked-down kernel must refuse: unsigned.ko (the
# signature taken off), other-key.ko (signed by a key the machine does not
# trust) and tampered.ko (DKMS's signature, one byte of the module changed
# after signing).
CHECK_WHO=secureboot-guest
. /checks.sh

# dmesg_has TEXT: the kernel log holds TEXT.
dmesg_has() { dmesg | grep -qF -- "$1"; }

echo "guest: kernel $(uname -r)"
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
lockdown=$(cat /sys/kernel/security/lockdown 2>/dev/null)
case "$lockdown" in
*"[integrity]"* | *"[confidentiality]"*) pass "lockdown is on: $lockdown" ;;
*) fail "lockdown is on: /sys/kernel/security/lockdown says '$lockdown'" ;;
esac
check "the kernel saw Secure Boot on" dmesg_has "secureboot: Secure boot enabled"
# The certificate's subject key identifier, from the host: this very key,
# not just any MOK.
mok=$(harness_arg mok_cert none)
check "DKMS's certificate is a machine owner key: ${mok%%:*}" \
	dmesg_has "Loaded X.509 cert '$(echo "$mok" | tr '_' ' ')'"

# What a user meets before the modules are in: the packaged tools say
# that the kernel is locked down and where to read on.
hint() {   # hint PROG ARGS...: fails, and its message names Secure Boot
	out=$("$@" 2>&1)
	st=$?
	echo "$out" | sed "s|^|guest: $1 says: |"
	[ $st -ne 0 ] && echo "$out" | grep -q 'Secure Boot' &&
		echo "$out" | grep -q 'README'
}
check "dmabuf-ctl stats without /dev/dmabuf points at Secure Boot" hint /tests/dmabuf-ctl stats
check "dmabuf-demo without /dev/dmabuf points at Secure Boot" hint /tests/dmabuf-demo

# refuse FILE NAME MESSAGE: insmod FILE fails with EKEYREJECTED ("Key was
# rejected by service"), nothing is loaded, and the kernel logs MESSAGE; an
# empty MESSAGE: the kernel logs no refusal line of its own (6.12 says
# nothing when a trusted key's signature does not match the module: only
# unsigned modules and unknown keys get a "Loading of ... is rejected").
refuse() {
	before=$(dmesg | wc -l)
	if out=$(insmod "$1" 2>&1); then
		fail "$2 is refused: insmod $1 succeeded"
		rmmod dmabuf_core
		return 0
	fi
	said=$(dmesg | tail -n +$((before + 1)))
	echo "guest: insmod $1: $out"
	echo "$said" | sed "s|^|guest: dmesg: |"
	if [ "${out#*Key was rejected by service}" = "$out" ]; then
		fail "$2 is refused: insmod said '$out', not EKEYREJECTED"
	elif loaded dmabuf_core; then
		fail "$2 is refused: dmabuf_core is loaded"
	elif [ -n "$3" ] && ! echo "$said" | grep -qF -- "$3"; then
		fail "$2 is refused: the kernel did not log '$3'"
	elif [ -z "$3" ] && echo "$said" | grep -q 'is rejected'; then
		fail "$2 is refused: for a missing signature or key: $said"
	else
		pass "$2 is refused: Key was rejected by service; ${3:-the kernel logs no line}"
	fi
}
refuse /refuse/unsigned.ko "an unsigned build" "Loading of unsigned module is rejected"
refuse /refuse/other-key.ko "a build signed by another key" \
	"Loading of module with unavailable key is rejected"
refuse /refuse/tampered.ko "a signed build with one byte changed" ""

# The DKMS-built modules load by name, as on an installed system, and
# carry no unsigned-module taint (E): the kernel checked their signatures.
check "modprobe dmabuf_demo_importer (pulls in dmabuf_core)" \
	modprobe dmabuf_demo_importer dma_bits=64,32 max_seg_kb=0,64
check "modprobe dmabuf_demo_exporter" modprobe dmabuf_demo_exporter
for m in dmabuf_core dmabuf_demo_importer dmabuf_demo_exporter; do
	taint=$(cat /sys/module/$m/taint 2>/dev/null)
	if ! loaded $m; then
		fail "$m: signature accepted: not loaded"
	elif [ "${taint#*E}" != "$taint" ]; then
		fail "$m: signature accepted: tainted '$taint' (E: unsigned)"
	else
		pass "$m: signature accepted: taint '$taint'"
	fi
done
check "/dev/dmabuf is there" test -c /dev/dmabuf
run_packaged_demo
check "dmabuf-ctl stats (packaged) runs" /tests/dmabuf-ctl stats
run_prog t_alloc
check "rmmod dmabuf_demo_exporter" rmmod dmabuf_demo_exporter
check "modprobe -r dmabuf_demo_importer (and dmabuf_core)" modprobe -r dmabuf_demo_importer
echo "DMABUF-TESTS-DONE $(harness_arg nonce none)"
