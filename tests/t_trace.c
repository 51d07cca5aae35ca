// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmabuf-core's trace events through tracefs: the system exists with its
 * events, and a known sequence (a demo buffer mapped by the 32-bit
 * importer with 64 KiB segments, a /dev/dmabuf buffer, an allocation
 * above max_size_mb) leaves exactly the events it should, in order, with
 * the right ids, devices, directions and storage constraints.  Expects the
 * demo modules loaded as t_demo does; run as root.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/tap.h"
#include "lib/demo.h"

#define EVENTS		TRACEFS "/events/dmabuf_core"
#define MAX_EVENTS	64

static const char *const event_names[] = {
	"export", "release", "attach", "detach", "map", "unmap", "storage", "refused",
};

/* One event of ours from the trace: its name (after "dmabuf_core_") and fields. */
struct event {
	char name[16];
	char fields[160];
};

static struct event events[MAX_EVENTS];
static int nr_events;

/* Opening the trace file with O_TRUNC empties the buffer. */
static int clear_trace(void)
{
	int fd = open(TRACEFS "/trace", O_WRONLY | O_TRUNC | O_CLOEXEC);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* Every line of ours in the trace, in order. */
static int read_events(void)
{
	char line[512], *p, *colon;
	FILE *f = fopen(TRACEFS "/trace", "r");

	if (!f)
		return -errno;
	nr_events = 0;
	while (fgets(line, sizeof(line), f) && nr_events < MAX_EVENTS) {
		if (line[0] == '#')
			continue;
		p = strstr(line, ": dmabuf_core_");
		if (!p)
			continue;
		p += strlen(": dmabuf_core_");
		colon = strchr(p, ':');
		if (!colon || colon - p >= (long)sizeof(events[0].name))
			continue;
		snprintf(events[nr_events].name, sizeof(events[0].name), "%.*s",
			 (int)(colon - p), p);
		snprintf(events[nr_events].fields, sizeof(events[0].fields), "%s", colon + 2);
		events[nr_events].fields[strcspn(events[nr_events].fields, "\n")] = 0;
		nr_events++;
	}
	fclose(f);
	return nr_events;
}

/* The value of field @key in @ev ("key=value ..."), copied to @out. */
static const char *field(const struct event *ev, const char *key, char *out, size_t len)
{
	char pat[32];
	const char *p;

	snprintf(pat, sizeof(pat), "%s=", key);
	for (p = ev->fields; (p = strstr(p, pat)); p++)
		if (p == ev->fields || p[-1] == ' ')
			break;
	if (!p) {
		snprintf(out, len, "(none)");
		return out;
	}
	p += strlen(pat);
	snprintf(out, len, "%.*s", (int)strcspn(p, " "), p);
	return out;
}

/*
 * Events @from.. must begin with @names (space-separated), each with the
 * fields in the matching entry of @want ("key=value ..." every one of
 * which must be in the event; NULL: anything).
 */
static void expect_events(int from, const char *const *names, const char *const *want, int n)
{
	char key[32], val[96], got[96];
	const char *w, *eq;
	int i;

	for (i = 0; i < n; i++) {
		const struct event *ev = &events[from + i];

		if (!CHECK(from + i < nr_events, "event %d (%s) missing: only %d events",
			   i, names[i], nr_events))
			return;
		if (!CHECK(!strcmp(ev->name, names[i]), "event %d: %s %s, expected %s", i,
			   ev->name, ev->fields, names[i]))
			return;
		for (w = want[i]; w && *w; w += strcspn(w, " "), w += *w == ' ') {
			eq = strchr(w, '=');
			snprintf(key, sizeof(key), "%.*s", (int)(eq - w), w);
			snprintf(val, sizeof(val), "%.*s", (int)strcspn(eq + 1, " "), eq + 1);
			field(ev, key, got, sizeof(got));
			CHECK(!strcmp(got, val), "%s: %s=%s, expected %s (%s)", names[i], key, got,
			      val, ev->fields);
		}
	}
}

static void t_events_exist(void)
{
	char path[128];
	struct stat st;
	unsigned int i;

	tg_begin("tracefs has system dmabuf_core with its eight events");
	for (i = 0; i < ARRAY_SIZE(event_names); i++) {
		snprintf(path, sizeof(path), EVENTS "/dmabuf_core_%s/format", event_names[i]);
		CHECK(stat(path, &st) == 0, "%s: %s", path, errstr(errno));
	}
	tg_end();
}

static void t_sequence(void)
{
	const uint64_t size = 1 * MiB;
	struct dmabuf_demo_access a;
	char id[24], sysid[24] = "?", dev[40], buf[96];
	long long max_mb = read_param_ll(DMABUF_PARAM_MAX_SIZE);
	int fd, imp, sys, start;
	uint64_t big;

	tg_begin("a known sequence leaves its events in order, with their fields");
	if (!CHECK(write_file(TRACEFS "/tracing_on", "0") == 0, "tracing_on") ||
	    !CHECK(clear_trace() == 0, "clearing the trace: %s", errstr(errno)) ||
	    !CHECK(write_file(EVENTS "/enable", "1") == 0, "enabling the events") ||
	    !CHECK(write_file(TRACEFS "/tracing_on", "1") == 0, "tracing_on")) {
		tg_end();
		return;
	}

	/* 1. Deferred storage: chosen at the 32-bit importer's map. */
	fd = demo_create(size, O_RDWR | O_CLOEXEC);
	imp = importer_open(1);
	snprintf(id, sizeof(id), "%llu", (unsigned long long)buf_id(fd));
	if (expect_rc("create", fd, 0) && expect_rc("open importer1", imp, 0))
		expect_rc("importer1 read", demo_access(imp, fd, DMABUF_DEMO_ACCESS_READ, 0, &a), 0);
	close_if_open(imp);
	close_if_open(fd);

	/* 2. /dev/dmabuf: storage at once, for any device. */
	sys = alloc_buf(64 * KiB, O_RDWR | O_CLOEXEC);
	if (expect_rc("alloc", sys, 0))
		snprintf(sysid, sizeof(sysid), "%llu", (unsigned long long)buf_id(sys));
	close_if_open(sys);

	/* 3. Refused: above max_size_mb (0: half of RAM), whatever it is. */
	big = max_mb > 0 ? (uint64_t)(max_mb + 1) * MiB : total_ram_bytes() + MiB;
	expect_rc("alloc above max_size_mb", alloc_buf(big, O_RDWR), ENOMEM);

	write_file(EVENTS "/enable", "0");
	if (!CHECK(read_events() > 0, "no dmabuf_core event in the trace")) {
		tg_end();
		return;
	}
	for (start = 0; start < nr_events; start++) {
		if (!strcmp(events[start].name, "export"))
			break;
	}
	if (!CHECK(start + 1 < nr_events, "no export and attach in the trace")) {
		tg_end();
		return;
	}
	field(&events[start + 1], "dev", dev, sizeof(dev));
	CHECK(!strcmp(dev, "dmabuf-demo-importer.1"), "attached device %s", dev);

	{
		char e0[160], e1[160], e2[160], e3[160], e4[160], e5[160], e6[160];
		const char *names[] = { "export", "attach", "storage", "map", "unmap", "detach",
					"release" };
		const char *want[] = { e0, e1, e2, e3, e4, e5, e6 };

		snprintf(e0, sizeof(e0), "id=%s size=1048576 exporter=dmabuf_demo_exporter", id);
		snprintf(e1, sizeof(e1), "id=%s dev=%s ret=0", id, dev);
		snprintf(e2, sizeof(e2), "size=1048576 dma_limit=0xffffffff max_chunk=65536");
		snprintf(e3, sizeof(e3), "id=%s dev=%s dir=to_device ret=0", id, dev);
		snprintf(e4, sizeof(e4), "id=%s dev=%s dir=to_device", id, dev);
		snprintf(e5, sizeof(e5), "id=%s dev=%s ret=0", id, dev);
		snprintf(e6, sizeof(e6), "id=%s size=1048576 exporter=dmabuf_demo_exporter", id);
		expect_events(start, names, want, 7);
		/* Chunks of 64 KiB at most; adjacent ones may share a segment. */
		if (start + 3 < nr_events) {
			long chunks = atol(field(&events[start + 2], "chunks", buf, sizeof(buf)));
			long largest = atol(field(&events[start + 2], "largest", buf, sizeof(buf)));
			long segs = atol(field(&events[start + 3], "segments", buf, sizeof(buf)));

			CHECK(chunks >= 16 && chunks <= 256, "storage chunks %ld", chunks);
			CHECK(largest >= (long)page_size && largest <= 65536, "largest chunk %ld",
			      largest);
			CHECK(segs >= 1 && segs <= chunks, "map segments %ld, chunks %ld", segs, chunks);
		}
	}
	{
		char e0[96], e2[96], e3[96];
		const char *names[] = { "storage", "export", "release", "refused" };
		const char *want[] = { "size=65536 dma_limit=0xffffffffffffffff max_chunk=0",
				       e0, e2, e3 };

		snprintf(e0, sizeof(e0), "id=%s size=65536 exporter=dmabuf_core", sysid);
		snprintf(e2, sizeof(e2), "id=%s size=65536 exporter=dmabuf_core", sysid);
		snprintf(e3, sizeof(e3), "size=%llu reason=max_size_mb ret=-12",
			 (unsigned long long)big);
		expect_events(start + 7, names, want, 4);
	}
	CHECK(nr_events == start + 11, "%d events after the sequence's 11", nr_events - start - 11);
	for (start = 0; start < nr_events; start++)
		printf("# event %d: %s %s\n", start, events[start].name, events[start].fields);
	tg_end();
}

int main(void)
{
	tap_init("t_trace");
	tg_begin("tracefs is mounted");
	CHECK(tracefs_ready(), "no %s/trace: %s", TRACEFS, errstr(errno));
	if (!tg_end())
		return tap_finish();
	t_events_exist();
	t_sequence();
	exporter_close();
	return tap_finish();
}
