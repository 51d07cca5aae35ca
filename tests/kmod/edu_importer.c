// SPDX-License-Identifier: GPL-2.0-only
/*
 * dmabuf_test_edu.ko: QEMU's "edu" PCI device (vendor 1234, device 11e8) as
 * a dmabuf-core importer, for the test harness only.  Unlike the demo
 * importer's platform devices, it is a PCI device that can sit behind an
 * emulated IOMMU (QEMU's intel-iommu) and really does DMA: its engine copies
 * up to 4 KiB between guest memory and a buffer of its own, through
 * whatever translation the IOMMU applies.  tests/t_iommu.c drives it through
 * /dev/dmabuf-test-edu (tests/kmod/dmabuf_test_edu.h).
 *
 * The edu device drops the bits of a bus address above its dma_mask
 * property, silently; the harness sets that to 32 bits (a 32-bit PCI
 * device, the common case of a device that cannot reach all memory), and
 * the driver sets the same mask and refuses to program an address outside
 * it.  The maximum segment size stays the PCI default, 64 KiB.  One device
 * is supported (the misc node's name).
 */
#include <linux/dma-mapping.h>
#include <linux/err.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/iopoll.h>
#include <linux/kref.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/dmabuf_core.h>

#include "dmabuf_test_edu.h"

#define EDU_VENDOR		0x1234
#define EDU_DEVICE		0x11e8
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98
#define EDU_DMA_RUN		BIT(0)
#define EDU_DMA_TO_RAM		BIT(1)	/* clear: from RAM into the device */
#define EDU_BUF_ADDR		0x40000	/* the device's buffer, its own side */
#define EDU_DMA_BITS		32	/* boot.sh: -device edu,dma_mask= */
/* QEMU runs a transfer 100 ms (virtual time) after it is started. */
#define EDU_DMA_TIMEOUT_US	(10 * USEC_PER_SEC)

/**
 * struct edu_importer - one bound edu device
 * @ref:	held by the binding and by each open file of @misc
 * @lock:	serialises the ioctls, which program the device's one DMA
 *		engine, with unbinding; protects @pdev and @regs
 * @pdev:	the device, NULL once unbound
 * @regs:	BAR 0, NULL once unbound
 * @dead:	a transfer did not finish: bus mastering is off for good
 * @misc:	/dev/dmabuf-test-edu
 */
struct edu_importer {
	struct kref ref;
	struct mutex lock;	/* see above */
	struct pci_dev *pdev;
	void __iomem *regs;
	bool dead;
	struct miscdevice misc;
};

static void edu_importer_free(struct kref *ref)
{
	struct edu_importer *edu = container_of(ref, struct edu_importer, ref);

	mutex_destroy(&edu->lock);
	kfree(edu);
}

/*
 * Runs one transfer of the device's engine and waits for its end.  The
 * engine ignores its registers while it runs: never program it then.
 */
static int edu_transfer(struct edu_importer *edu, u64 src, u64 dst, u64 len,
			u64 dir)
{
	u64 cmd;

	if (readq(edu->regs + EDU_REG_DMA_CMD) & EDU_DMA_RUN)
		return -EBUSY;
	writeq(src, edu->regs + EDU_REG_DMA_SRC);
	writeq(dst, edu->regs + EDU_REG_DMA_DST);
	writeq(len, edu->regs + EDU_REG_DMA_COUNT);
	writeq(EDU_DMA_RUN | dir, edu->regs + EDU_REG_DMA_CMD);
	return readq_poll_timeout(edu->regs + EDU_REG_DMA_CMD, cmd,
				  !(cmd & EDU_DMA_RUN), 1000,
				  EDU_DMA_TIMEOUT_US);
}

/*
 * The bus address of [@off, @off + @len) of the mapping, which must lie in
 * one DMA segment and within @mask.
 */
static int edu_dma_addr(struct sg_table *sgt, u64 off, u64 len, u64 mask,
			dma_addr_t *addr)
{
	struct scatterlist *sg;
	unsigned int i;
	u64 pos = 0;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		u64 seg = sg_dma_len(sg);

		if (off >= pos && off - pos < seg) {
			if (len > seg - (off - pos))
				return -EINVAL;
			*addr = sg_dma_address(sg) + (off - pos);
			return *addr + len - 1 > mask ? -EOVERFLOW : 0;
		}
		pos += seg;
	}
	return -EINVAL;
}

static u64 edu_largest_segment(struct sg_table *sgt)
{
	struct scatterlist *sg;
	unsigned int i;
	u64 largest = 0;

	for_each_sgtable_dma_sg(sgt, sg, i)
		largest = max_t(u64, largest, sg_dma_len(sg));
	return largest;
}

/* Called with edu->lock held and the device bound. */
static long edu_copy(struct edu_importer *edu,
		     struct dmabuf_test_edu_copy *req)
{
	struct device *dev = &edu->pdev->dev;
	struct dmabuf_core_attachment *att;
	struct dmabuf_core_buffer *buf;
	struct sg_table *sgt;
	dma_addr_t src, dst;
	long ret;

	buf = dmabuf_core_get(req->fd);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	/* The device writes: a read-only buffer is not for it. */
	if (!dmabuf_core_is_writable(buf)) {
		ret = -EACCES;
		goto out_put;
	}
	att = dmabuf_core_attach(buf, dev);
	if (IS_ERR(att)) {
		ret = PTR_ERR(att);
		goto out_put;
	}
	sgt = dmabuf_core_map_attachment(att, DMA_BIDIRECTIONAL);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto out_detach;
	}
	req->dma_mask = dma_get_mask(dev);
	req->segments = sgt->nents;
	req->largest_segment = edu_largest_segment(sgt);
	ret = edu_dma_addr(sgt, req->src_offset, req->length, req->dma_mask,
			   &src);
	if (!ret)
		ret = edu_dma_addr(sgt, req->dst_offset, req->length,
				   req->dma_mask, &dst);
	if (ret)
		goto out_unmap;
	req->src_dma = src;
	req->dst_dma = dst;
	/* As a device would: after other writers and readers are done. */
	ret = dmabuf_core_wait_fences(buf, true, true);
	if (ret)
		goto out_unmap;
	ret = edu_transfer(edu, src, EDU_BUF_ADDR, req->length, 0);
	if (!ret)
		ret = edu_transfer(edu, EDU_BUF_ADDR, dst, req->length,
				   EDU_DMA_TO_RAM);
	if (ret == -ETIMEDOUT) {
		/*
		 * The engine may still write.  Without bus mastering QEMU
		 * drops its DMA, so the mapping can go; the device is done.
		 */
		dev_err(dev, "DMA did not finish: bus mastering off\n");
		pci_clear_master(edu->pdev);
		edu->dead = true;
	}
out_unmap:
	if (dmabuf_core_unmap_attachment(att, sgt, DMA_BIDIRECTIONAL) && !ret)
		ret = -EINVAL;
out_detach:
	dmabuf_core_detach(buf, att);
out_put:
	dmabuf_core_put(buf);
	return ret;
}

static long edu_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct edu_importer *edu = container_of(file->private_data,
						struct edu_importer, misc);
	struct dmabuf_test_edu_copy req;
	void __user *uarg = (void __user *)arg;
	long ret;

	if (cmd != DMABUF_TEST_EDU_IOCTL_COPY)
		return -ENOTTY;
	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.flags || req.reserved || !req.length ||
	    req.length > DMABUF_TEST_EDU_MAX_COPY)
		return -EINVAL;
	req.src_dma = 0;
	req.dst_dma = 0;
	req.dma_mask = 0;
	req.segments = 0;
	req.largest_segment = 0;

	mutex_lock(&edu->lock);
	if (!edu->pdev)
		ret = -ENODEV;
	else if (edu->dead)
		ret = -EIO;
	else
		ret = edu_copy(edu, &req);
	mutex_unlock(&edu->lock);
	if (!ret && copy_to_user(uarg, &req, sizeof(req)))
		ret = -EFAULT;
	return ret;
}

static int edu_open(struct inode *inode, struct file *file)
{
	struct edu_importer *edu = container_of(file->private_data,
						struct edu_importer, misc);

	kref_get(&edu->ref);
	return 0;
}

static int edu_release(struct inode *inode, struct file *file)
{
	struct edu_importer *edu = container_of(file->private_data,
						struct edu_importer, misc);

	kref_put(&edu->ref, edu_importer_free);
	return 0;
}

static const struct file_operations edu_fops = {
	.owner = THIS_MODULE,
	.open = edu_open,
	.release = edu_release,
	.unlocked_ioctl = edu_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static int edu_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct edu_importer *edu;
	int ret;

	edu = kzalloc(sizeof(*edu), GFP_KERNEL);
	if (!edu)
		return -ENOMEM;
	kref_init(&edu->ref);
	mutex_init(&edu->lock);
	edu->pdev = pdev;

	ret = pci_enable_device(pdev);
	if (ret)
		goto err_free;
	ret = pci_request_region(pdev, 0, KBUILD_MODNAME);
	if (ret)
		goto err_disable;
	edu->regs = pci_iomap(pdev, 0, 0);
	if (!edu->regs) {
		ret = -ENOMEM;
		goto err_release;
	}
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(EDU_DMA_BITS));
	if (ret)
		goto err_unmap;
	pci_set_master(pdev);
	pci_set_drvdata(pdev, edu);

	/* Last: the node goes live with everything behind it ready. */
	edu->misc.minor = MISC_DYNAMIC_MINOR;
	edu->misc.name = "dmabuf-test-edu";
	edu->misc.fops = &edu_fops;
	edu->misc.mode = 0600;
	edu->misc.parent = &pdev->dev;
	ret = misc_register(&edu->misc);
	if (ret)
		goto err_master;
	return 0;

err_master:
	pci_clear_master(pdev);
err_unmap:
	pci_iounmap(pdev, edu->regs);
err_release:
	pci_release_region(pdev, 0);
err_disable:
	pci_disable_device(pdev);
err_free:
	kref_put(&edu->ref, edu_importer_free);
	return ret;
}

static void edu_remove(struct pci_dev *pdev)
{
	struct edu_importer *edu = pci_get_drvdata(pdev);

	misc_deregister(&edu->misc);
	/* Open files keep @edu but find the device gone. */
	mutex_lock(&edu->lock);
	pci_clear_master(pdev);
	pci_iounmap(pdev, edu->regs);
	edu->regs = NULL;
	edu->pdev = NULL;
	mutex_unlock(&edu->lock);
	pci_release_region(pdev, 0);
	pci_disable_device(pdev);
	kref_put(&edu->ref, edu_importer_free);
}

static const struct pci_device_id edu_ids[] = {
	{ PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) },
	{ }
};
MODULE_DEVICE_TABLE(pci, edu_ids);

static struct pci_driver edu_driver = {
	.name = "dmabuf_test_edu",
	.id_table = edu_ids,
	.probe = edu_probe,
	.remove = edu_remove,
};
module_pci_driver(edu_driver);

MODULE_DESCRIPTION("dmabuf-core test importer: QEMU's edu PCI device");
MODULE_LICENSE("GPL");
DMABUF_CORE_IMPORT_NS();
