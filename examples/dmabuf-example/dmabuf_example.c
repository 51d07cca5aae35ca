// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmabuf_example.ko: an example third-party driver that uses dmabuf-core,
 * built outside dmabuf-core's tree against the installed framework (its
 * header and the Module.symvers of each kernel release, see Kbuild).
 *
 * It stands for a board with a 32-bit DMA engine, and shows both sides of
 * the API in their smallest complete form:
 *
 * - exporting (IOCTL_EXPORT): page storage from dmabuf-core's page library,
 *   below the board's DMA limit; the library's ready-made callbacks as the
 *   buffer's operations; one file descriptor handed to userspace;
 * - importing (IOCTL_IMPORT): any dma-buf fd, attach the board's device,
 *   map for DMA, unmap, read the contents through a kernel mapping, detach.
 */
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/fcntl.h>
#include <linux/fs.h>
#include <linux/iosys-map.h>
#include <linux/minmax.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/dmabuf_core.h>
#include <linux/dmabuf_core_pages.h>
#include <uapi/linux/dmabuf_example.h>

#define EXAMPLE_FNV_BASIS	0xcbf29ce484222325ULL
#define EXAMPLE_FNV_PRIME	0x100000001b3ULL
#define EXAMPLE_READ_CHUNK	256	/* bytes copied out of a mapping at once */

static unsigned int max_size_mb = 64;
module_param(max_size_mb, uint, 0644);
MODULE_PARM_DESC(max_size_mb, "Largest exported buffer in MiB (default 64)");

/* The board: DMA reaches the low 4 GiB, descriptors hold up to 4 MiB. */
static struct platform_device *example_pdev;

static u64 example_fnv(u64 h, const u8 *p, size_t len)
{
	while (len--) {
		h ^= *p++;
		h *= EXAMPLE_FNV_PRIME;
	}
	return h;
}

static void example_release(struct dmabuf_core_buffer *buf)
{
	struct dmabuf_core_pages *pages = buf->priv;

	dmabuf_core_pages_free(pages);
	kfree(pages);
}

/* Buffers whose priv is their page storage: the library does the rest. */
static const struct dmabuf_core_ops example_ops = {
	.attach			= dmabuf_core_pages_op_attach,
	.map			= dmabuf_core_pages_op_map,
	.unmap			= dmabuf_core_pages_op_unmap,
	.release		= example_release,
	.mmap			= dmabuf_core_pages_op_mmap,
	.vmap			= dmabuf_core_pages_op_vmap,
	.vunmap			= dmabuf_core_pages_op_vunmap,
	.begin_cpu_access	= dmabuf_core_sync_mappings_for_cpu,
	.end_cpu_access		= dmabuf_core_sync_mappings_for_device,
};

/* Word i of the pattern: seed ^ (i * 0x9E3779B1), little-endian. */
static int example_fill(struct dmabuf_core_pages *pages, size_t size, u32 seed)
{
	struct iosys_map map;
	__le32 *word;
	size_t i;
	int ret;

	ret = dmabuf_core_pages_vmap(pages, &map);
	if (ret)
		return ret;
	word = map.vaddr;
	for (i = 0; i < size / sizeof(*word); i++)
		word[i] = cpu_to_le32(seed ^ (u32)(i * 0x9E3779B1U));
	dmabuf_core_pages_vunmap(&map);
	return 0;
}

static int example_export(struct dmabuf_example_export __user *uarg)
{
	DMABUF_CORE_EXPORT_INFO(info);
	struct dmabuf_example_export arg;
	struct dmabuf_core_pages *pages;
	struct dmabuf_core_buffer *buf;
	int fd, ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags || arg.reserved || arg.fd)
		return -EINVAL;
	if (!arg.size || !PAGE_ALIGNED(arg.size))
		return -EINVAL;
	if (arg.size > (u64)READ_ONCE(max_size_mb) << 20)
		return -E2BIG;

	pages = kzalloc(sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	ret = dmabuf_core_pages_alloc(pages, arg.size,
				      dmabuf_core_device_dma_limit(&example_pdev->dev), 0);
	if (ret)
		goto err_free;
	ret = example_fill(pages, arg.size, arg.seed);
	if (ret)
		goto err_pages;

	info.ops = &example_ops;
	info.size = arg.size;
	info.flags = O_RDWR;
	info.priv = pages;
	buf = dmabuf_core_export(&info);
	if (IS_ERR(buf)) {
		ret = PTR_ERR(buf);
		goto err_pages;
	}
	/* From here on the buffer owns @pages: example_release() frees them. */
	/*
	 * Kernel drivers get a kernel mapping (dma_buf_vmap()) only once the
	 * exporter offered one, made here where a failure is ours to report.
	 */
	ret = dmabuf_core_lock_storage(buf);
	if (!ret) {
		ret = dmabuf_core_offer_vmap(buf);
		dmabuf_core_unlock_storage(buf);
	}
	if (ret) {
		dmabuf_core_put(buf);
		return ret;
	}
	fd = dmabuf_core_fd(buf, O_CLOEXEC);
	if (fd < 0) {
		dmabuf_core_put(buf);
		return fd;
	}
	/*
	 * The fd is live: a failed copy cannot take it back (another thread
	 * may use it already), as with every ioctl that makes an fd.
	 */
	if (put_user(fd, &uarg->fd))
		return -EFAULT;
	return 0;

err_pages:
	dmabuf_core_pages_free(pages);
err_free:
	kfree(pages);
	return ret;
}

/* What the CPU sees of the buffer, hashed, through a kernel mapping. */
static int example_checksum(struct dmabuf_core_buffer *buf, u64 *sum)
{
	u8 chunk[EXAMPLE_READ_CHUNK];
	struct iosys_map map;
	size_t off, len;
	u64 h = EXAMPLE_FNV_BASIS;
	int ret;

	ret = dmabuf_core_begin_cpu_access(buf, DMA_FROM_DEVICE);
	if (ret)
		return ret;
	ret = dmabuf_core_vmap(buf, &map);
	if (ret)
		goto out_end;
	for (off = 0; off < buf->size; off += len) {
		len = min_t(size_t, sizeof(chunk), buf->size - off);
		iosys_map_memcpy_from(chunk, &map, off, len);
		h = example_fnv(h, chunk, len);
		/* A buffer may be gigabytes: stay preemptible and killable. */
		if (!(off & (SZ_1M - 1))) {
			if (fatal_signal_pending(current)) {
				ret = -EINTR;
				break;
			}
			cond_resched();
		}
	}
	dmabuf_core_vunmap(buf, &map);
	if (!ret)
		*sum = h;
out_end:
	dmabuf_core_end_cpu_access(buf, DMA_FROM_DEVICE);
	return ret;
}

static int example_import(struct dmabuf_example_import __user *uarg)
{
	struct dmabuf_example_import arg;
	struct dmabuf_core_attachment *att;
	struct dmabuf_core_buffer *buf;
	struct scatterlist *sg;
	struct sg_table *sgt;
	unsigned int i;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags || arg.reserved[0] || arg.reserved[1])
		return -EINVAL;

	buf = dmabuf_core_get(arg.fd);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	att = dmabuf_core_attach(buf, &example_pdev->dev);
	if (IS_ERR(att)) {
		ret = PTR_ERR(att);
		goto out_put;
	}
	sgt = dmabuf_core_map_attachment(att, DMA_TO_DEVICE);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto out_detach;
	}
	/* A real board would now write these into its DMA descriptors. */
	arg.bytes = 0;
	arg.segments = sgt->nents;
	for_each_sgtable_dma_sg(sgt, sg, i)
		arg.bytes += sg_dma_len(sg);
	ret = dmabuf_core_unmap_attachment(att, sgt, DMA_TO_DEVICE);
	if (ret)
		goto out_detach;

	ret = example_checksum(buf, &arg.checksum);
	if (ret)
		goto out_detach;
	arg.foreign = dmabuf_core_is_imported(buf);
	if (copy_to_user(uarg, &arg, sizeof(arg)))
		ret = -EFAULT;
out_detach:
	dmabuf_core_detach(buf, att);
out_put:
	dmabuf_core_put(buf);
	return ret;
}

static long example_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case DMABUF_EXAMPLE_IOCTL_EXPORT:
		return example_export(uarg);
	case DMABUF_EXAMPLE_IOCTL_IMPORT:
		return example_import(uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations example_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= example_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static struct miscdevice example_node = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "dmabuf-example",
	.fops	= &example_fops,
	.mode	= 0600,
};

static int __init example_init(void)
{
	struct platform_device_info pinfo = {
		.name = "dmabuf-example",
		.id = PLATFORM_DEVID_NONE,
		.dma_mask = DMA_BIT_MASK(32),
	};
	int ret;

	example_pdev = platform_device_register_full(&pinfo);
	if (IS_ERR(example_pdev))
		return PTR_ERR(example_pdev);
	dma_set_max_seg_size(&example_pdev->dev, SZ_4M);

	ret = misc_register(&example_node);
	if (ret)
		platform_device_unregister(example_pdev);
	return ret;
}

static void __exit example_exit(void)
{
	misc_deregister(&example_node);
	platform_device_unregister(example_pdev);
}

module_init(example_init);
module_exit(example_exit);

MODULE_DESCRIPTION("dmabuf-core example third-party driver: exports and imports buffers");
MODULE_AUTHOR("dmabuf-core developers");
MODULE_LICENSE("GPL");
DMABUF_CORE_IMPORT_NS();
