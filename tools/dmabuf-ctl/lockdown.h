/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Why /dev/dmabuf may be missing on a machine with Secure Boot on: the
 * kernel is then locked down and loads only modules signed by a key it
 * trusts, and until DKMS's key is enrolled as a machine owner key modprobe
 * says "Key was rejected by service".  Shared by dmabuf-ctl and dmabuf-demo
 * (tests/demo_share.c) for their message when the node is missing.
 */
#ifndef DMABUF_LOCKDOWN_H
#define DMABUF_LOCKDOWN_H

#include <stdio.h>
#include <string.h>

#define LOCKDOWN_HINT \
	"the kernel is locked down (Secure Boot): it loads only signed modules whose key it trusts.\n" \
	"If \"modprobe dmabuf_core\" says \"Key was rejected by service\", enrol DKMS's key once:\n" \
	"  sudo mokutil --import /var/lib/dkms/mok.pub, reboot, MokManager: \"Enroll MOK\".\n" \
	"See \"Secure Boot\" in dmabuf-core's README (also /usr/share/doc/dmabuf-core-dkms/NEWS.Debian.gz)."

/*
 * Whether /sys/kernel/security/lockdown names a mode other than none
 * ("none [integrity] confidentiality").  Unreadable: not known, 0.
 */
static inline int kernel_locked_down(void)
{
	char mode[128] = "";
	FILE *f = fopen("/sys/kernel/security/lockdown", "re");

	if (f) {
		if (!fgets(mode, sizeof(mode), f))
			mode[0] = 0;
		fclose(f);
	}
	return strchr(mode, '[') && !strstr(mode, "[none]");
}

#endif /* DMABUF_LOCKDOWN_H */
