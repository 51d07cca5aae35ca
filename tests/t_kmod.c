// SPDX-License-Identifier: GPL-2.0-only
/*
 * Loading and unloading through libkmod: refcounts, holders, parameters,
 * and that a live buffer pins both dmabuf_core and its exporter's module.
 * Usage: t_kmod <directory holding the .ko files>.  Starts and ends with
 * none of the modules loaded.
 */
#include <fcntl.h>
#include <libkmod.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lib/tap.h"
#include "lib/demo.h"

static struct kmod_ctx *ctx;
static const char *dir;

/* Allocate from /dev/dmabuf without keeping the node open: fd or -errno. */
static int node_alloc(uint64_t len)
{
	struct dmabuf_core_alloc a = { .len = len, .fd_flags = O_RDWR };
	int node = open(DMABUF_DEV, O_RDWR), ret;

	if (node < 0)
		return -errno;
	ret = ioctl(node, DMABUF_CORE_IOCTL_ALLOC, &a) ? -errno : (int)a.fd;
	close(node);
	return ret;
}

static struct kmod_module *load(const char *name, const char *options, int want)
{
	struct kmod_module *mod = NULL;
	char path[512];
	int ret;

	snprintf(path, sizeof(path), "%s/%s.ko", dir, name);
	ret = kmod_module_new_from_path(ctx, path, &mod);
	if (!CHECK(ret == 0, "%s: %s", path, errstr(-ret)))
		return NULL;
	ret = kmod_module_insert_module(mod, 0, options);
	if (!CHECK(ret == want, "insert %s %s: expected %s, got %s", name,
		   options ? options : "", want ? errname(-want) : "success",
		   ret ? errname(-ret) : "success")) {
		kmod_module_unref(mod);
		return NULL;
	}
	if (ret) {
		kmod_module_unref(mod);
		return NULL;
	}
	return mod;
}

static void unload(struct kmod_module *mod, int want)
{
	int ret;

	if (!mod)
		return;
	ret = kmod_module_remove_module(mod, 0);
	CHECK(ret == want, "remove %s: expected %s, got %s", kmod_module_get_name(mod),
	      want ? errname(-want) : "success", ret ? errname(-ret) : "success");
}

static int holds(struct kmod_module *mod, const char *holder)
{
	struct kmod_list *list = kmod_module_get_holders(mod), *l;
	int found = 0;

	kmod_list_foreach(l, list) {
		struct kmod_module *h = kmod_module_get_module(l);

		if (!strcmp(kmod_module_get_name(h), holder))
			found = 1;
		kmod_module_unref(h);
	}
	kmod_module_unref_list(list);
	return found;
}

static void t_pinning(void)
{
	struct kmod_module *core, *exp;
	int node, fd, sysfd;

	tg_begin("libkmod loads dmabuf_core and the exporter; refcounts and holders");
	core = load("dmabuf_core", NULL, 0);
	if (!core) {
		tg_end();
		return;
	}
	CHECK_U64("core state live", kmod_module_get_initstate(core), KMOD_MODULE_LIVE);
	CHECK_U64("core refcnt", kmod_module_get_refcnt(core), 0);
	exp = load("dmabuf_demo_exporter", NULL, 0);
	CHECK_U64("core refcnt with the exporter", kmod_module_get_refcnt(core), 1);
	CHECK(holds(core, "dmabuf_demo_exporter"), "exporter not among core's holders");
	tg_end();

	tg_begin("a live buffer pins its exporter and dmabuf_core");
	node = open(EXPORTER_DEV, O_RDWR);
	fd = node < 0 ? -1 : ({
		struct dmabuf_demo_create c = { .size = 4096, .fd_flags = O_RDWR };
		ioctl(node, DMABUF_DEMO_IOCTL_CREATE, &c) ? -1 : c.fd;
	});
	CHECK(fd >= 0, "create: %s", errstr(errno));
	close(node);
	CHECK_U64("exporter refcnt", kmod_module_get_refcnt(exp), 1);
	CHECK_U64("core refcnt", kmod_module_get_refcnt(core), 2);
	unload(exp, -EAGAIN);
	unload(core, -EAGAIN);
	close(fd);
	CHECK_U64("exporter refcnt after close", kmod_module_get_refcnt(exp), 0);
	CHECK_U64("core refcnt after close", kmod_module_get_refcnt(core), 1);
	unload(exp, 0);
	CHECK_U64("core refcnt without the exporter", kmod_module_get_refcnt(core), 0);

	sysfd = node_alloc(4096);
	CHECK(sysfd >= 0, "alloc: %s", errstr(-sysfd));
	/* dmabuf_core is both the buffer's exporter and its file's owner. */
	CHECK_U64("core refcnt with a /dev/dmabuf buffer", kmod_module_get_refcnt(core), 2);
	unload(core, -EAGAIN);
	close(sysfd);
	unload(core, 0);
	CHECK(kmod_module_get_initstate(core) == -ENOENT, "dmabuf_core still loaded");
	tg_end();
	kmod_module_unref(exp);
	kmod_module_unref(core);
}

static void t_parameters(void)
{
	struct kmod_module *core, *exp, *imp;
	int fd;

	tg_begin("parameters: size cap, importer constraints, bad values refused");
	core = load("dmabuf_core", "max_size_mb=1", 0);
	fd = node_alloc(2 * MiB);
	expect_rc("alloc above max_size_mb", fd, ENOMEM);
	fd = node_alloc(1 * MiB);
	expect_rc("alloc at max_size_mb", fd, 0);
	if (fd >= 0)
		close(fd);

	exp = load("dmabuf_demo_exporter", "dma_bits=16", -EINVAL);
	imp = load("dmabuf_demo_importer", "dma_bits=65", -EINVAL);
	imp = load("dmabuf_demo_importer", "dma_bits=32 max_seg_kb=1", -EINVAL);
	imp = load("dmabuf_demo_importer", "dma_bits=64 max_seg_kb=4,4", -EINVAL);
	imp = load("dmabuf_demo_importer", "dma_bits=64,32,40", 0);
	CHECK(access("/dev/dmabuf-demo-importer2", F_OK) == 0, "third importer node missing");
	unload(imp, 0);
	kmod_module_unref(imp);
	(void)exp;
	unload(core, 0);
	kmod_module_unref(core);
	tg_end();
}

int main(int argc, char **argv)
{
	tap_init("t_kmod");
	if (argc != 2) {
		fprintf(stderr, "usage: t_kmod MODULE_DIR\n");
		return 2;
	}
	dir = argv[1];
	ctx = kmod_new(NULL, NULL);
	tg_begin("libkmod context");
	CHECK(ctx != NULL, "kmod_new failed");
	if (!tg_end())
		return tap_finish();

	t_pinning();
	t_parameters();
	kmod_unref(ctx);
	return tap_finish();
}
