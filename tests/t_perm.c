// SPDX-License-Identifier: GPL-2.0-only
/*
 * t_perm: permissions udev gave the device nodes (udev/60-dmabuf-core.rules),
 * checked as an unprivileged user would meet them.
 *
 *   t_perm [NODE...]      default: /dev/dmabuf and every /dev/dmabuf-demo-*
 *
 * Every node must be a character device owned by root:video with mode 0660.
 * Forked children give up root (setgroups, setgid, setuid) and try the nodes:
 * user "tester" with supplementary group video opens each node, and on
 * /dev/dmabuf allocates a 4096-byte buffer; through the demo nodes it shares
 * data but sees no physical address. "tester" without the supplementary
 * group, and "outsider" (uid 1001, not in video), get EACCES on every node.
 * Users and groups come from /etc/passwd and /etc/group. They are parsed here
 * because a static binary cannot use NSS.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/demo.h"
#include "lib/tap.h"

#define PROG		"t_perm"
#define ALLOC_LEN	4096
#define MAX_NODES	16

static const char *nodes[MAX_NODES];
static int nr_nodes;
static gid_t video_gid = (gid_t)-1;

/* Field 3 (uid or gid) of the line named name in a passwd/group file. */
static long id_from(const char *file, const char *name)
{
	char line[512];
	size_t n = strlen(name);
	long id = -1;
	FILE *f = fopen(file, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p;

		if (strncmp(line, name, n) || line[n] != ':')
			continue;
		p = strchr(line + n + 1, ':');	/* past the password field */
		if (p)
			id = strtol(p + 1, NULL, 10);
		break;
	}
	fclose(f);
	return id;
}

/* An unprivileged identity for a child. */
struct ident {
	uid_t uid;
	gid_t gid;
	int with_video;		/* supplementary group video */
};

/* Become who, for good: no way back to root. Message in msg on failure. */
static int drop_to(const struct ident *who, char *msg, size_t msglen)
{
	gid_t groups[1] = { video_gid };

	if (setgroups(who->with_video ? 1 : 0, groups) < 0 ||
	    setgid(who->gid) < 0 || setuid(who->uid) < 0) {
		snprintf(msg, msglen, "dropping to uid %u: %s",
			 (unsigned int)who->uid, errstr(errno));
		return -1;
	}
	if (getuid() != who->uid || geteuid() != who->uid ||
	    getegid() != who->gid || setuid(0) == 0) {
		snprintf(msg, msglen, "still privileged after dropping to uid %u",
			 (unsigned int)who->uid);
		return -1;
	}
	return 0;
}

/*
 * With the demo modules loaded: an unprivileged member shares data through
 * them but sees no physical address or page-frame hash (0).
 */
static int demo_hides_addresses(char *msg, size_t msglen)
{
	struct dmabuf_demo_pattern fill;
	struct dmabuf_demo_storage st;
	struct dmabuf_demo_access acc;
	int imp, fd, r = -1;

	if (access(EXPORTER_DEV, F_OK))
		return 0;	/* not loaded */
	imp = importer_open(0);
	fd = demo_create(64 * 1024, O_RDWR | O_CLOEXEC);
	if (imp < 0 || fd < 0) {
		snprintf(msg, msglen, "demo nodes: importer %d, create %d", imp, fd);
		goto out;
	}
	if (demo_fill(fd, 7, &fill) || demo_storage(fd, &st) ||
	    demo_access(imp, fd, DMABUF_DEMO_ACCESS_READ, 0, &acc)) {
		snprintf(msg, msglen, "demo fill/storage/access failed: %s", errstr(errno));
		goto out;
	}
	if (!st.allocated || acc.checksum != fill.checksum) {
		snprintf(msg, msglen, "demo sharing: allocated %u, checksums %llx %llx",
			 st.allocated, (unsigned long long)acc.checksum,
			 (unsigned long long)fill.checksum);
		goto out;
	}
	/* How contiguous the pages are is hidden like where they are. */
	if (st.chunks || st.largest_chunk || acc.segments || acc.largest_segment) {
		snprintf(msg, msglen, "layout shown to an unprivileged user: %u chunks "
			 "(largest %llu), %u segments (largest %llu)", st.chunks,
			 (unsigned long long)st.largest_chunk, acc.segments,
			 (unsigned long long)acc.largest_segment);
		goto out;
	}
	if (st.lowest_phys || st.highest_phys || st.pages_hash ||
	    acc.lowest_dma || acc.highest_dma || acc.pages_hash) {
		snprintf(msg, msglen, "addresses shown to an unprivileged user: phys %#llx-%#llx "
			 "hash %llx, dma %#llx-%#llx hash %llx",
			 (unsigned long long)st.lowest_phys, (unsigned long long)st.highest_phys,
			 (unsigned long long)st.pages_hash, (unsigned long long)acc.lowest_dma,
			 (unsigned long long)acc.highest_dma, (unsigned long long)acc.pages_hash);
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (imp >= 0)
		close(imp);
	exporter_close();
	return r;
}

/* Child: every node opens O_RDWR; /dev/dmabuf allocates ALLOC_LEN bytes. */
static int member_child(void *arg, char *msg, size_t msglen)
{
	const struct ident *who = arg;
	struct dmabuf_core_query q;
	int i, fd, buf, r;

	if (drop_to(who, msg, msglen))
		return -1;
	for (i = 0; i < nr_nodes; i++) {
		fd = open(nodes[i], O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			snprintf(msg, msglen, "open(%s, O_RDWR): %s", nodes[i],
				 errstr(errno));
			return -1;
		}
		close(fd);
	}
	fd = dev_fd();		/* /dev/dmabuf, O_RDWR */
	if (fd < 0) {
		snprintf(msg, msglen, "open(" DMABUF_DEV "): %s", errstr(-fd));
		return -1;
	}
	buf = alloc_buf(ALLOC_LEN, O_RDWR | O_CLOEXEC);
	if (buf < 0) {
		snprintf(msg, msglen, "DMABUF_CORE_IOCTL_ALLOC(%d): %s",
			 ALLOC_LEN, errstr(-buf));
		return -1;
	}
	r = query(buf, &q);
	if (r < 0) {
		snprintf(msg, msglen, "QUERY on the new buffer fd %d: %s", buf,
			 errstr(-r));
		return -1;
	}
	if (q.size != ALLOC_LEN) {
		snprintf(msg, msglen, "new buffer fd %d has size %llu, expected %d",
			 buf, (unsigned long long)q.size, ALLOC_LEN);
		return -1;
	}
	close(buf);
	return demo_hides_addresses(msg, msglen);
}

/* Child: every node refuses O_RDWR, O_RDONLY and O_WRONLY with EACCES. */
static int outsider_child(void *arg, char *msg, size_t msglen)
{
	static const int modes[] = { O_RDWR, O_RDONLY, O_WRONLY };
	static const char *const mode_names[] = { "O_RDWR", "O_RDONLY", "O_WRONLY" };
	const struct ident *who = arg;
	size_t len = 0;
	int i, m, fd, e, bad = 0;

	if (drop_to(who, msg, msglen))
		return -1;
	for (i = 0; i < nr_nodes; i++) {
		for (m = 0; m < (int)ARRAY_SIZE(modes); m++) {
			errno = 0;
			fd = open(nodes[i], modes[m] | O_CLOEXEC);
			e = errno;
			if (fd < 0 && e == EACCES)
				continue;
			if (fd >= 0)
				close(fd);
			bad = 1;
			if (len < msglen)
				len += snprintf(msg + len, msglen - len,
						"%sopen(%s, %s): %s, expected EACCES",
						len ? "; " : "", nodes[i], mode_names[m],
						fd >= 0 ? "succeeded" : errstr(e));
		}
	}
	return bad ? -1 : 0;
}

static void run_as(const char *group, child_fn fn, struct ident *who)
{
	struct child c;
	char msg[1024];
	int r;

	tg_begin(group);
	r = child_start(&c, fn, who);
	if (r < 0)
		tg_fail("fork: %s", errstr(-r));
	else if (child_wait(&c, msg, sizeof(msg)) < 0)
		tg_fail("%s", msg[0] ? msg : "child failed");
	tg_end();
}

static void test_node_mode(const char *node)
{
	char name[160];
	struct stat st;

	snprintf(name, sizeof(name), "%s is root:video (gid %d) mode 0660",
		 node, (int)video_gid);
	tg_begin(name);
	if (CHECK(stat(node, &st) == 0, "stat: %s", errstr(errno))) {
		CHECK(S_ISCHR(st.st_mode), "not a character device (mode %o)",
		      st.st_mode);
		CHECK((st.st_mode & 07777) == 0660, "mode %04o, expected 0660",
		      st.st_mode & 07777);
		CHECK(st.st_uid == 0, "owner uid %u, expected 0",
		      (unsigned int)st.st_uid);
		CHECK(st.st_gid == video_gid, "group gid %u, expected %u (video)",
		      (unsigned int)st.st_gid, (unsigned int)video_gid);
	}
	tg_end();
}

/* /dev/dmabuf, then every /dev/dmabuf-demo-* in name order. */
static void default_nodes(void)
{
	struct dirent **list;
	int i, n;

	nodes[nr_nodes++] = DMABUF_DEV;
	n = scandir("/dev", &list, NULL, alphasort);
	for (i = 0; i < n; i++) {
		if (!strncmp(list[i]->d_name, "dmabuf-demo-", 12) &&
		    nr_nodes < MAX_NODES) {
			char *p;

			if (asprintf(&p, "/dev/%s", list[i]->d_name) > 0)
				nodes[nr_nodes++] = p;
		}
		free(list[i]);
	}
	if (n >= 0)
		free(list);
}

int main(int argc, char **argv)
{
	struct ident member, nonmember, outsider;
	long tester_uid, outsider_uid, vg;
	char name[200];
	int i;

	tap_init(PROG);
	for (i = 1; i < argc && nr_nodes < MAX_NODES; i++)
		nodes[nr_nodes++] = argv[i];
	if (!nr_nodes)
		default_nodes();

	tg_begin("users tester, outsider and group video in /etc/passwd, /etc/group");
	tester_uid = id_from("/etc/passwd", "tester");
	outsider_uid = id_from("/etc/passwd", "outsider");
	vg = id_from("/etc/group", "video");
	CHECK(tester_uid > 0, "no user tester");
	CHECK(outsider_uid > 0, "no user outsider");
	CHECK(vg > 0, "no group video");
	if (tg_ok())
		tg_note("tester %ld, outsider %ld, video %ld", tester_uid,
			outsider_uid, vg);
	if (!tg_end())
		return tap_finish();
	video_gid = (gid_t)vg;

	for (i = 0; i < nr_nodes; i++)
		test_node_mode(nodes[i]);

	member.uid = member.gid = (uid_t)tester_uid;
	member.with_video = 1;
	nonmember = member;
	nonmember.with_video = 0;
	outsider.uid = outsider.gid = (uid_t)outsider_uid;
	outsider.with_video = 0;

	snprintf(name, sizeof(name),
		 "uid %ld with supplementary group video: opens %d nodes, allocates %d bytes from "
		 DMABUF_DEV "%s", tester_uid, nr_nodes, ALLOC_LEN,
		 access(EXPORTER_DEV, F_OK) ? "" :
		 ", shares through the demo nodes but sees no physical address");
	run_as(name, member_child, &member);
	snprintf(name, sizeof(name),
		 "uid %ld without group video: EACCES on open of all %d nodes",
		 tester_uid, nr_nodes);
	run_as(name, outsider_child, &nonmember);
	snprintf(name, sizeof(name),
		 "uid %ld (outsider, not in video): EACCES on open of all %d nodes",
		 outsider_uid, nr_nodes);
	run_as(name, outsider_child, &outsider);

	return tap_finish();
}
