// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmabuf-ctl list: every live dma-buf the system shows, its attached
 * devices and the processes that hold it, gathered from
 *   - the kernel's /sys/kernel/debug/dma_buf/bufinfo, when readable (root,
 *     debugfs mounted): every dma-buf, with its attached devices, also
 *     those only the kernel holds;
 *   - /proc/PID/fd and fdinfo: dma-buf fds and what the kernel says of them;
 *   - /proc/PID/maps: mappings of dma-bufs;
 *   - dmabuf-core's QUERY, through a holder's fd (pidfd_getfd), for the
 *     id, attachment and mapping counts of dmabuf-core's buffers.
 * Buffers are told apart by the inode of their file.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uapi/linux/dmabuf_core.h>

#include "ctl.h"

#ifndef BUFINFO	/* another file, for a test of the parser */
#define BUFINFO		"/sys/kernel/debug/dma_buf/bufinfo"
#endif
#define MAX_FDS		8	/* fds listed per holder */

struct holder {
	pid_t pid;
	char comm[32];
	int fds[MAX_FDS];
	int nr_fds;	/* fds this process has (more than listed: counted) */
	int maps;	/* mappings */
};

struct buf {
	unsigned long ino;
	uint64_t size;
	char exporter[64];
	char name[64];
	char *devices;		/* from bufinfo: names, comma-separated */
	int nr_devices;		/* -1: unknown */
	int queried;		/* id, attachments, mappings known */
	uint64_t id;
	unsigned int attachments, mappings;
	struct holder *holders;
	int nr_holders;
};

static struct buf *bufs;
static int nr_bufs;

static struct buf *find_buf(unsigned long ino, int create)
{
	struct buf *b;
	int i;

	for (i = 0; i < nr_bufs; i++)
		if (bufs[i].ino == ino)
			return &bufs[i];
	if (!create)
		return NULL;
	b = realloc(bufs, (nr_bufs + 1) * sizeof(*bufs));
	if (!b) {
		ctl_error(EXIT_FAILED, "out of memory");
		exit(EXIT_FAILED);
	}
	bufs = b;
	b = &bufs[nr_bufs++];
	memset(b, 0, sizeof(*b));
	b->ino = ino;
	b->nr_devices = -1;
	return b;
}

static struct holder *find_holder(struct buf *b, pid_t pid, const char *comm)
{
	struct holder *h;
	int i;

	for (i = 0; i < b->nr_holders; i++)
		if (b->holders[i].pid == pid)
			return &b->holders[i];
	h = realloc(b->holders, (b->nr_holders + 1) * sizeof(*h));
	if (!h) {
		ctl_error(EXIT_FAILED, "out of memory");
		exit(EXIT_FAILED);
	}
	b->holders = h;
	h = &b->holders[b->nr_holders++];
	memset(h, 0, sizeof(*h));
	h->pid = pid;
	snprintf(h->comm, sizeof(h->comm), "%s", comm);
	return h;
}

static void add_device(struct buf *b, const char *dev)
{
	size_t old = b->devices ? strlen(b->devices) : 0;
	char *d = realloc(b->devices, old + strlen(dev) + 2);

	if (!d)
		return;
	if (old)
		d[old++] = ',';
	strcpy(d + old, dev);
	b->devices = d;
	b->nr_devices++;
}

/* The kernel's view of every dma-buf; 1 if it could be read. */
static int scan_bufinfo(void)
{
	char line[512], exp[64], name[64];
	unsigned long long size, count;
	unsigned int flags, mode;
	unsigned long ino;
	struct buf *b = NULL;
	int in_devices = 0;
	FILE *f = fopen(BUFINFO, "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		int end = 0;

		line[strcspn(line, "\n")] = 0;
		/* size flags mode count exp_name ino name: the name may be empty. */
		if (isdigit((unsigned char)line[0])) {
			b = NULL;
			in_devices = 0;
			if (sscanf(line, "%llu\t%x\t%x\t%llu\t%63s\t%lu%n", &size, &flags, &mode,
				   &count, exp, &ino, &end) != 6 || (line[end] && line[end] != '\t'))
				continue;
			snprintf(name, sizeof(name), "%s", line[end] ? line + end + 1 : "");
			b = find_buf(ino, 1);
			b->size = size;
			snprintf(b->exporter, sizeof(b->exporter), "%s", exp);
			if (strcmp(name, "<none>"))
				snprintf(b->name, sizeof(b->name), "%s", name);
			b->nr_devices = 0;
		} else if (b && !strcmp(line, "\tAttached Devices:")) {
			in_devices = 1;
		} else if (b && in_devices && line[0] == '\t' && line[1]) {
			add_device(b, line + 1);
		} else if (!strncmp(line, "Total ", 6)) {
			in_devices = 0;
			b = NULL;
		}
	}
	fclose(f);
	return 1;
}

static void read_comm(pid_t pid, char *comm, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	comm[0] = 0;
	f = fopen(path, "re");
	if (f) {
		if (fgets(comm, len, f))
			comm[strcspn(comm, "\n")] = 0;
		fclose(f);
	}
}

/* Our buffer's id and counters, through one of @pid's fds of it. */
static void query_through(struct buf *b, pid_t pid, int fd, int node)
{
	struct dmabuf_core_query q = { 0 };
	struct stat st;
	int pidfd, mine;

	if (node < 0 || b->queried)
		return;
	if (pid == getpid()) {
		mine = fd;
	} else {
		pidfd = syscall(SYS_pidfd_open, pid, 0);
		if (pidfd < 0)
			return;
		mine = syscall(SYS_pidfd_getfd, pidfd, fd, 0);
		close(pidfd);
		if (mine < 0)
			return;
	}
	/* The fd number may have been closed and reused since the scan saw it. */
	if (fstat(mine, &st) || st.st_ino != b->ino) {
		if (mine != fd)
			close(mine);
		return;
	}
	q.fd = mine;
	if (ioctl(node, DMABUF_CORE_IOCTL_QUERY, &q) == 0 &&
	    !(q.info & DMABUF_CORE_QUERY_FOREIGN)) {
		b->queried = 1;
		b->id = q.id;
		b->attachments = q.attachments;
		b->mappings = q.mappings;
	}
	if (mine != fd)
		close(mine);
}

static void scan_process(pid_t pid, int node)
{
	char path[64], line[512], comm[32];
	struct ctl_fdinfo fi;
	unsigned long ino;
	struct dirent *de;
	struct holder *h;
	struct buf *b;
	DIR *d;
	FILE *f;

	read_comm(pid, comm, sizeof(comm));
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		int fd = atoi(de->d_name);

		if (!isdigit((unsigned char)de->d_name[0]) || !ctl_is_dmabuf_fd(pid, fd, &ino))
			continue;
		b = find_buf(ino, 1);
		if (!b->exporter[0] && ctl_read_fdinfo(pid, fd, &fi) == 0) {
			b->size = fi.size;
			snprintf(b->exporter, sizeof(b->exporter), "%s", fi.exp_name);
			snprintf(b->name, sizeof(b->name), "%s", fi.name);
		}
		h = find_holder(b, pid, comm);
		if (h->nr_fds < MAX_FDS)
			h->fds[h->nr_fds] = fd;
		h->nr_fds++;
		query_through(b, pid, fd, node);
	}
	if (d)
		closedir(d);

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		char *p = strstr(line, " /dmabuf:");

		/* start-end perms offset dev inode path */
		if (!p || sscanf(line, "%*s %*s %*s %*s %lu", &ino) != 1)
			continue;
		b = find_buf(ino, 1);
		if (!b->name[0]) {
			p += strlen(" /dmabuf:");
			p[strcspn(p, "\n")] = 0;
			snprintf(b->name, sizeof(b->name), "%s", p);
		}
		find_holder(b, pid, comm)->maps++;
	}
	if (f)
		fclose(f);
}

static void print_holders(FILE *o, const struct buf *b, int json)
{
	int i, j;

	for (i = 0; i < b->nr_holders; i++) {
		const struct holder *h = &b->holders[i];

		if (json) {
			fprintf(o, "%s{\"pid\": %d, \"comm\": ", i ? ", " : "", (int)h->pid);
			ctl_json_string(o, h->comm);
			fprintf(o, ", \"fds\": [");
			for (j = 0; j < h->nr_fds && j < MAX_FDS; j++)
				fprintf(o, "%s%d", j ? ", " : "", h->fds[j]);
			fprintf(o, "], \"maps\": %d}", h->maps);
			continue;
		}
		fprintf(o, "%s%d(%s)", i ? " " : "", (int)h->pid, h->comm);
		for (j = 0; j < h->nr_fds && j < MAX_FDS; j++)
			fprintf(o, "%sfd%d", j ? "," : ":", h->fds[j]);
		if (h->nr_fds > MAX_FDS)
			fprintf(o, ",+%d", h->nr_fds - MAX_FDS);
		if (h->maps)
			fprintf(o, "%smap%s", h->nr_fds ? "," : ":",
				h->maps > 1 ? "s" : "");
	}
	if (!json && !b->nr_holders)
		fputs("kernel only", o);
}

struct total {
	char key[64];
	pid_t pid;
	int buffers;
	uint64_t bytes;
};

static void count(struct total **t, int *n, const char *key, pid_t pid, uint64_t bytes)
{
	struct total *x;
	int i;

	for (i = 0; i < *n; i++) {
		if ((*t)[i].pid == pid && !strcmp((*t)[i].key, key)) {
			(*t)[i].buffers++;
			(*t)[i].bytes += bytes;
			return;
		}
	}
	x = realloc(*t, (*n + 1) * sizeof(**t));
	if (!x)
		return;
	*t = x;
	x = &x[(*n)++];
	snprintf(x->key, sizeof(x->key), "%s", key);
	x->pid = pid;
	x->buffers = 1;
	x->bytes = bytes;
}

static void print_list(FILE *o, int json, int have_bufinfo)
{
	struct total *exps = NULL, *procs = NULL;
	int nr_exps = 0, nr_procs = 0, i, j;

	for (i = 0; i < nr_bufs; i++) {
		count(&exps, &nr_exps, bufs[i].exporter, 0, bufs[i].size);
		for (j = 0; j < bufs[i].nr_holders; j++)
			count(&procs, &nr_procs, bufs[i].holders[j].comm, bufs[i].holders[j].pid,
			      bufs[i].size);
	}
	if (json) {
		fprintf(o, "{\"kernel_view\": %s, \"buffers\": [", have_bufinfo ? "true" : "false");
		for (i = 0; i < nr_bufs; i++) {
			const struct buf *b = &bufs[i];

			fprintf(o, "%s\n  {\"inode\": %lu, \"size\": %" PRIu64 ", \"exporter\": ",
				i ? "," : "", b->ino, b->size);
			ctl_json_string(o, b->exporter);
			fprintf(o, ", \"name\": ");
			ctl_json_string(o, b->name);
			if (b->queried)
				fprintf(o, ", \"id\": %" PRIu64 ", \"attachments\": %u, \"mappings\": %u",
					b->id, b->attachments, b->mappings);
			fprintf(o, ", \"devices\": ");
			if (b->nr_devices < 0) {
				fputs("null", o);
			} else {
				char *s = b->devices, *e;

				fputc('[', o);
				for (j = 0; j < b->nr_devices && s; j++, s = e ? e + 1 : NULL) {
					e = strchr(s, ',');
					if (e)
						*e = 0;
					fputs(j ? ", " : "", o);
					ctl_json_string(o, s);
					if (e)
						*e = ',';
				}
				fputc(']', o);
			}
			fprintf(o, ", \"holders\": [");
			print_holders(o, b, 1);
			fprintf(o, "]}");
		}
		fprintf(o, "\n], \"exporters\": [");
		for (i = 0; i < nr_exps; i++) {
			fprintf(o, "%s{\"exporter\": ", i ? ", " : "");
			ctl_json_string(o, exps[i].key);
			fprintf(o, ", \"buffers\": %d, \"bytes\": %" PRIu64 "}", exps[i].buffers,
				exps[i].bytes);
		}
		fprintf(o, "], \"processes\": [");
		for (i = 0; i < nr_procs; i++) {
			fprintf(o, "%s{\"pid\": %d, \"comm\": ", i ? ", " : "", (int)procs[i].pid);
			ctl_json_string(o, procs[i].key);
			fprintf(o, ", \"buffers\": %d, \"bytes\": %" PRIu64 "}", procs[i].buffers,
				procs[i].bytes);
		}
		fprintf(o, "]}\n");
	} else {
		fprintf(o, "%-8s %-6s %12s %-22s %-16s %-30s %-6s %s\n", "INODE", "ID", "SIZE",
			"EXPORTER", "NAME", "DEVICES", "MAPPED", "HOLDERS");
		for (i = 0; i < nr_bufs; i++) {
			const struct buf *b = &bufs[i];
			char id[24] = "-", mapped[16] = "-", devs[16];

			if (b->queried) {
				snprintf(id, sizeof(id), "%" PRIu64, b->id);
				snprintf(mapped, sizeof(mapped), "%u", b->mappings);
			}
			if (b->nr_devices < 0)
				snprintf(devs, sizeof(devs), b->queried ? "(%u)" : "?", b->attachments);
			fprintf(o, "%-8lu %-6s %12" PRIu64 " %-22s %-16s %-30s %-6s ", b->ino, id,
				b->size, b->exporter[0] ? b->exporter : "?", b->name[0] ? b->name : "-",
				b->nr_devices < 0 ? devs : b->nr_devices ? b->devices : "-", mapped);
			print_holders(o, b, 0);
			fputc('\n', o);
		}
		fputc('\n', o);
		for (i = 0; i < nr_exps; i++)
			fprintf(o, "exporter %s: %d buffer%s, %" PRIu64 " bytes\n",
				exps[i].key[0] ? exps[i].key : "?", exps[i].buffers,
				exps[i].buffers == 1 ? "" : "s", exps[i].bytes);
		for (i = 0; i < nr_procs; i++)
			fprintf(o, "process %d (%s): %d buffer%s, %" PRIu64 " bytes\n",
				(int)procs[i].pid, procs[i].key, procs[i].buffers,
				procs[i].buffers == 1 ? "" : "s", procs[i].bytes);
		fprintf(o, "total: %d buffer%s\n", nr_bufs, nr_bufs == 1 ? "" : "s");
		if (!have_bufinfo)
			fprintf(o, "note: buffers only the kernel holds, and device names, need %s (root, debugfs)\n",
				BUFINFO);
	}
	free(exps);
	free(procs);
}

int ctl_cmd_list(int argc, char **argv)
{
	int json = 0, have_bufinfo, node, i;
	struct dirent *de;
	DIR *proc;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else
			return ctl_error(EXIT_USAGE, "list: unexpected '%s'", argv[i]);
	}
	have_bufinfo = scan_bufinfo();
	/* Without dmabuf_core (or the right to its node) ids stay unknown. */
	node = open(DMABUF_NODE, O_RDONLY | O_CLOEXEC);
	proc = opendir("/proc");
	if (!proc)
		return ctl_error(EXIT_FAILED, "/proc: %s", strerror(errno));
	while ((de = readdir(proc))) {
		if (isdigit((unsigned char)de->d_name[0]))
			scan_process(atoi(de->d_name), node);
	}
	closedir(proc);
	if (node >= 0)
		close(node);
	print_list(stdout, json, have_bufinfo);
	for (i = 0; i < nr_bufs; i++) {
		free(bufs[i].devices);
		free(bufs[i].holders);
	}
	free(bufs);
	return EXIT_OK;
}
