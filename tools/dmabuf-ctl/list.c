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
 * Buffers are told apart by the inode of their file.  Every process may put
 * any file under any fd, map files of any name and name its buffers as it
 * likes, so a file counts as a dma-buf only when a descriptor of it, once
 * taken, is seen to be one (statfs magic), and what is printed is escaped.
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
#include <sys/sysmacros.h>
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
	int described;		/* size, exporter and name from a checked fdinfo */
	int queried;		/* id, attachments, mappings known */
	uint64_t id;
	unsigned int attachments, mappings;
	struct holder *holders;
	int nr_holders;
};

static struct buf *bufs;
static int nr_bufs;

/* The dma-buf filesystem's device, once a checked fd showed it. */
static dev_t dmabuf_dev;
static int have_dmabuf_dev;

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

/* @dev appended to the comma-separated list *@list. */
static void add_device(char **list, const char *dev)
{
	size_t old = *list ? strlen(*list) : 0, len = strlen(dev) + 1;
	char *d = realloc(*list, old + len + 1);

	if (!d)
		return;
	if (old)
		d[old++] = ',';
	memcpy(d + old, dev, len);
	*list = d;
}

/* A line "%08zu\t%08x\t%08x\t%08ld\t%s\t%08lu\t%s" of bufinfo: a buffer. */
static struct buf *bufinfo_header(const char *line)
{
	unsigned long long size, count;
	unsigned int flags, mode;
	char exp[64];
	unsigned long ino;
	struct buf *b;
	int end = 0;

	if (!isdigit((unsigned char)line[0]) ||
	    sscanf(line, "%llu\t%x\t%x\t%llu\t%63s\t%lu%n", &size, &flags, &mode, &count, exp, &ino,
		   &end) != 6 || (line[end] && line[end] != '\t'))
		return NULL;
	b = find_buf(ino, 1);
	if (b->described)	/* an fdinfo said it already, and better */
		return b;
	b->size = size;
	snprintf(b->exporter, sizeof(b->exporter), "%s", exp);
	line += line[end] ? end + 1 : end;
	if (strcmp(line, "<none>"))
		snprintf(b->name, sizeof(b->name), "%s", line);
	return b;
}

/*
 * The kernel's view of every dma-buf; 1 if it could be read.
 *
 * A buffer's name is printed raw at the end of its first line, so a name
 * with newlines adds lines of its choosing to the record.  What a name can
 * add fits in DMA_BUF_NAME_LEN - 1 (31) bytes, right after the line: a
 * record's devices are those after its last "Attached Devices:" line (the
 * kernel's comes after the name, and after the fences) and count only if
 * the kernel's "Total N devices attached", followed by an empty line,
 * agrees; a buffer line counts only right after that empty line (or after
 * the title line), which a name cannot both close and follow with a buffer
 * line in 31 bytes.  For a buffer some process holds, its fdinfo names it
 * (fdinfo shows the name last, so nothing follows it there).
 */
static int scan_bufinfo(void)
{
	enum { TITLE, HEADER, RECORD, DEVICES, CLOSING } state = TITLE;
	char *line = NULL, *devices = NULL;
	int nr_devices = 0, total = 0;
	struct buf *b = NULL, *nb;
	size_t cap = 0;
	ssize_t n;
	FILE *f = fopen(BUFINFO, "re");

	if (!f)
		return 0;
	while ((n = getline(&line, &cap, f)) >= 0) {
		if (n && line[n - 1] == '\n')
			line[n - 1] = 0;
		/* A "Total" line not followed by the empty one was a name's. */
		if (state == CLOSING && line[0])
			state = RECORD;
		if (state == HEADER && line[0]) {
			nb = bufinfo_header(line);
			if (nb) {
				b = nb;
				state = RECORD;
				continue;
			}
			/* After a name's "Total" and empty line, the record goes on. */
			if (line[0] == '\t' && b)
				state = RECORD;
		}
		switch (state) {
		case TITLE:
			if (!strncmp(line, "size", 4) && strstr(line, "\texp_name\t"))
				state = HEADER;
			break;
		case CLOSING:
			free(b->devices);
			b->devices = devices;
			b->nr_devices = total == nr_devices ? nr_devices : -1;
			devices = NULL;
			state = HEADER;
			break;
		case HEADER:
			break;
		case RECORD:
		case DEVICES:
			if (!strcmp(line, "\tAttached Devices:")) {
				free(devices);
				devices = NULL;
				nr_devices = 0;
				state = DEVICES;
			} else if (state == DEVICES && line[0] == '\t' && line[1]) {
				add_device(&devices, line + 1);
				nr_devices++;
			} else if (state == DEVICES &&
				   sscanf(line, "Total %d devices attached", &total) == 1) {
				state = CLOSING;
			}
			break;
		}
	}
	free(devices);
	free(line);
	fclose(f);
	return 1;
}

/* /proc/PID/comm, all of it: a comm may hold a newline of its own. */
static void read_comm(pid_t pid, char *comm, size_t len)
{
	char path[64];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (f) {
		n = fread(comm, 1, len - 1, f);
		fclose(f);
	}
	if (n && comm[n - 1] == '\n')
		n--;
	comm[n] = 0;
}

/*
 * Size, exporter, name and dmabuf-core's counters of @b, which fd @fd of
 * @pid held when @taken (an O_PATH descriptor of it, stat in @st) was
 * taken.  Through a copy of the fd when pidfd_getfd(2) is allowed: its
 * fdinfo and QUERY are of exactly the file taken, once that is seen to be
 * the same dma-buf.  Else through /proc/PID/fdinfo/FD, whose "ino" must
 * still be the buffer's (the fd may have been replaced meanwhile).
 */
static void describe(struct buf *b, pid_t pid, int fd, int *pidfd, int node,
		     const struct stat *st)
{
	struct dmabuf_core_query q = { 0 };
	struct ctl_fdinfo fi;
	struct stat mst;
	int mine = -1;

	if (b->described && (b->queried || node < 0))
		return;
	if (*pidfd == -1)
		*pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (*pidfd >= 0)
		mine = syscall(SYS_pidfd_getfd, *pidfd, fd, 0);
	if (mine >= 0 && (!ctl_is_dmabuf(mine, &mst) || mst.st_ino != st->st_ino ||
			  mst.st_dev != st->st_dev)) {
		close(mine);
		mine = -1;
	}
	if (mine >= 0) {
		if (ctl_read_fdinfo(getpid(), mine, &fi))
			fi.exp_name[0] = 0;
	} else if (ctl_read_fdinfo(pid, fd, &fi) || fi.ino != st->st_ino) {
		fi.exp_name[0] = 0;
	}
	if (!b->described && fi.exp_name[0]) {
		b->size = fi.size;
		snprintf(b->exporter, sizeof(b->exporter), "%s", fi.exp_name);
		snprintf(b->name, sizeof(b->name), "%s", fi.name);
		b->described = 1;
	}
	if (mine < 0)
		return;
	q.fd = mine;
	if (node >= 0 && !b->queried && ioctl(node, DMABUF_CORE_IOCTL_QUERY, &q) == 0 &&
	    !(q.info & DMABUF_CORE_QUERY_FOREIGN)) {
		b->queried = 1;
		b->id = q.id;
		b->attachments = q.attachments;
		b->mappings = q.mappings;
	}
	close(mine);
}

/* The dma-bufs among the fds of @pid. */
static void scan_fds(pid_t pid, int node)
{
	int dirfd, taken, fd, pidfd = -1;
	char path[64], comm[32];
	struct dirent *de;
	struct holder *h;
	struct stat st;
	struct buf *b;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return;
	d = fdopendir(dirfd);
	if (!d) {
		close(dirfd);
		return;
	}
	read_comm(pid, comm, sizeof(comm));
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		/*
		 * O_PATH takes the file without opening it again (no side
		 * effects on a FIFO or a device), and what it took stays
		 * what is checked, whatever the process does to its fd.
		 */
		taken = openat(dirfd, de->d_name, O_PATH | O_CLOEXEC);
		if (taken < 0)
			continue;
		if (!ctl_is_dmabuf(taken, &st)) {
			close(taken);
			continue;
		}
		dmabuf_dev = st.st_dev;
		have_dmabuf_dev = 1;
		fd = atoi(de->d_name);
		b = find_buf(st.st_ino, 1);
		describe(b, pid, fd, &pidfd, node, &st);
		close(taken);
		h = find_holder(b, pid, comm);
		if (h->nr_fds < MAX_FDS)
			h->fds[h->nr_fds] = fd;
		h->nr_fds++;
	}
	closedir(d);
	if (pidfd >= 0)
		close(pidfd);
}

/*
 * Whether the mapping @start-@end of @pid (a maps line that says
 * "/dmabuf:", device @dev, inode @ino) is a dma-buf.  Anyone may map a file
 * of that name, so the mapped file itself is checked where
 * /proc/PID/map_files lets us take it (root); elsewhere its device must be
 * the one the checked dma-bufs showed.
 */
static int mapped_dmabuf(pid_t pid, unsigned long start, unsigned long end, dev_t dev,
			 unsigned long ino)
{
	char path[96];
	struct stat st;
	int fd, ok;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%lx-%lx", (int)pid, start, end);
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd >= 0) {
		ok = ctl_is_dmabuf(fd, &st) && st.st_ino == ino;
		close(fd);
		return ok;
	}
	return have_dmabuf_dev && dev == dmabuf_dev;
}

/* The dma-bufs @pid has mapped. */
static void scan_maps(pid_t pid)
{
	unsigned int major, minor;
	unsigned long start, end, ino;
	char path[64], comm[32], *line = NULL;
	size_t cap = 0;
	ssize_t n;
	struct buf *b;
	FILE *f;
	int at;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	read_comm(pid, comm, sizeof(comm));
	/* Whole lines: a piece of a long path must not pass for a line. */
	while ((n = getline(&line, &cap, f)) >= 0) {
		if (n && line[n - 1] == '\n')
			line[n - 1] = 0;
		/* start-end perms offset major:minor inode path */
		at = 0;
		if (sscanf(line, "%lx-%lx %*s %*s %x:%x %lu %n", &start, &end, &major, &minor, &ino,
			   &at) != 5 || !at || strncmp(line + at, "/dmabuf:", 8) ||
		    !mapped_dmabuf(pid, start, end, makedev(major, minor), ino))
			continue;
		b = find_buf(ino, 1);
		if (!b->name[0])
			snprintf(b->name, sizeof(b->name), "%s", line + at + 8);
		find_holder(b, pid, comm)->maps++;
	}
	free(line);
	fclose(f);
}

static void print_holders(FILE *o, const struct buf *b, int json)
{
	char esc[CTL_ESC(sizeof(b->holders->comm))];
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
		fprintf(o, "%s%d(%s)", i ? " " : "", (int)h->pid,
			ctl_escape(esc, sizeof(esc), h->comm));
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
	char esc[CTL_ESC(sizeof(((struct total *)0)->key))], *devices = NULL;
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
			fprintf(o, "%-8lu %-6s %12" PRIu64 " ", b->ino, id, b->size);
			fprintf(o, "%-22s ", b->exporter[0] ?
				ctl_escape(esc, sizeof(esc), b->exporter) : "?");
			fprintf(o, "%-16s ", b->name[0] ?
				ctl_escape(esc, sizeof(esc), b->name) : "-");
			if (b->nr_devices > 0 && b->devices) {
				devices = malloc(CTL_ESC(strlen(b->devices) + 1));
				if (devices)
					ctl_escape(devices, CTL_ESC(strlen(b->devices) + 1),
						   b->devices);
			}
			fprintf(o, "%-30s %-6s ", b->nr_devices < 0 ? devs :
				b->nr_devices && devices ? devices : "-", mapped);
			free(devices);
			devices = NULL;
			print_holders(o, b, 0);
			fputc('\n', o);
		}
		fputc('\n', o);
		for (i = 0; i < nr_exps; i++)
			fprintf(o, "exporter %s: %d buffer%s, %" PRIu64 " bytes\n",
				exps[i].key[0] ? ctl_escape(esc, sizeof(esc), exps[i].key) : "?",
				exps[i].buffers,
				exps[i].buffers == 1 ? "" : "s", exps[i].bytes);
		for (i = 0; i < nr_procs; i++)
			fprintf(o, "process %d (%s): %d buffer%s, %" PRIu64 " bytes\n",
				(int)procs[i].pid, ctl_escape(esc, sizeof(esc), procs[i].key),
				procs[i].buffers,
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
	int json = 0, have_bufinfo, node, i, nr_pids = 0;
	pid_t *pids = NULL, *p;
	struct dirent *de;
	DIR *proc;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else
			return ctl_error(EXIT_USAGE, "list: unexpected '%s'", argv[i]);
	}
	proc = opendir("/proc");
	if (!proc)
		return ctl_error(EXIT_FAILED, "/proc: %s", strerror(errno));
	while ((de = readdir(proc))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		p = realloc(pids, (nr_pids + 1) * sizeof(*pids));
		if (!p) {
			closedir(proc);
			free(pids);
			return ctl_error(EXIT_FAILED, "out of memory");
		}
		pids = p;
		pids[nr_pids++] = atoi(de->d_name);
	}
	closedir(proc);
	have_bufinfo = scan_bufinfo();
	/* Without dmabuf_core (or the right to its node) ids stay unknown. */
	node = open(DMABUF_NODE, O_RDONLY | O_CLOEXEC);
	for (i = 0; i < nr_pids; i++)
		scan_fds(pids[i], node);
	/* Then the mappings: the fds have shown the dma-buf device by now. */
	for (i = 0; i < nr_pids; i++)
		scan_maps(pids[i]);
	free(pids);
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
