// SPDX-License-Identifier: GPL-2.0
/*
 * test_pymalloc.c - workload driver for the pymalloc kselftests.
 *
 * Commands written to /sys/kernel/debug/test_pymalloc/ctl:
 *   alloc N SIZE    allocate N blocks of SIZE bytes from the default heap
 *   random N SEED   N random allocations and frees, sizes 1..512
 *   free N          free the N newest blocks
 *   freeall         free every block
 *   badfree         one interior, one double and one foreign free
 * Every block is filled with a pattern that is verified when it is freed.
 * Reading ctl gives "live <blocks>", "bytes <requested bytes>" and
 * "corrupt <blocks found damaged>".
 */
#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/random.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include <pymalloc.h>

struct block {
	u8 *p;
	u16 size;
	u8 tag;
};

static DEFINE_MUTEX(lock);
static struct block *blocks;
static size_t nlive, cap, nbytes, ncorrupt;
static struct dentry *dir;
static u64 rng;

static u32 next_rand(void)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return rng >> 33;
}

static int grow(void)
{
	size_t ncap = cap ? cap * 2 : 1024;
	struct block *nb = kvmalloc_array(ncap, sizeof(*nb), GFP_KERNEL);

	if (!nb)
		return -ENOMEM;
	if (blocks)
		memcpy(nb, blocks, nlive * sizeof(*nb));
	kvfree(blocks);
	blocks = nb;
	cap = ncap;
	return 0;
}

static int alloc_one(size_t size)
{
	struct block *b;

	if (nlive == cap && grow())
		return -ENOMEM;
	b = &blocks[nlive];
	b->p = pym_alloc(size, GFP_KERNEL);
	if (!b->p)
		return -ENOMEM;
	b->size = size;
	b->tag = next_rand();
	memset(b->p, b->tag, size);
	nlive++;
	nbytes += size;
	return 0;
}

static void free_at(size_t i)
{
	struct block *b = &blocks[i];

	if (memchr_inv(b->p, b->tag, b->size))
		ncorrupt++;
	pym_free(b->p);
	nbytes -= b->size;
	blocks[i] = blocks[--nlive];
}

static int do_random(unsigned long n, unsigned long seed)
{
	int err = 0;

	rng = seed;
	while (n-- && !err) {
		if (!nlive || next_rand() % 100 < 55)
			err = alloc_one(1 + next_rand() % 512);
		else
			free_at(next_rand() % nlive);
		cond_resched();
	}
	return err;
}

static int do_badfree(void)
{
	static int not_heap;
	u8 *p = pym_alloc(64, GFP_KERNEL);
	u8 *q = pym_alloc(64, GFP_KERNEL);

	if (!p || !q) {
		pym_free(p);
		pym_free(q);
		return -ENOMEM;
	}
	pym_free(p + 8);
	pym_free(p);
	pym_free(p);
	pym_free(&not_heap);
	pym_free(q);
	return 0;
}

static ssize_t ctl_write(struct file *file, const char __user *ubuf,
			 size_t len, loff_t *ppos)
{
	unsigned long a = 0, b = 0;
	char buf[64], cmd[16];
	int err = -EINVAL, n;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	n = sscanf(buf, "%15s %lu %lu", cmd, &a, &b);
	if (n < 1)
		return -EINVAL;

	mutex_lock(&lock);
	if (!strcmp(cmd, "alloc") && n == 3 && b >= 1) {
		for (err = 0; a-- && !err; cond_resched())
			err = alloc_one(b);
	} else if (!strcmp(cmd, "random") && n == 3) {
		err = do_random(a, b);
	} else if (!strcmp(cmd, "free") && n == 2 && a <= nlive) {
		while (a--)
			free_at(nlive - 1);
		err = 0;
	} else if (!strcmp(cmd, "freeall")) {
		while (nlive)
			free_at(nlive - 1);
		err = 0;
	} else if (!strcmp(cmd, "badfree")) {
		err = do_badfree();
	}
	mutex_unlock(&lock);
	return err ? err : len;
}

static int ctl_show(struct seq_file *m, void *v)
{
	mutex_lock(&lock);
	seq_printf(m, "live %zu\nbytes %zu\ncorrupt %zu\n", nlive, nbytes,
		   ncorrupt);
	mutex_unlock(&lock);
	return 0;
}

static int ctl_open(struct inode *inode, struct file *file)
{
	return single_open(file, ctl_show, NULL);
}

static const struct file_operations ctl_fops = {
	.owner = THIS_MODULE,
	.open = ctl_open,
	.read = seq_read,
	.write = ctl_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static int __init test_pymalloc_init(void)
{
	dir = debugfs_create_dir("test_pymalloc", NULL);
	debugfs_create_file("ctl", 0600, dir, NULL, &ctl_fops);
	return 0;
}

static void __exit test_pymalloc_exit(void)
{
	debugfs_remove(dir);
	while (nlive)
		free_at(nlive - 1);
	kvfree(blocks);
}

module_init(test_pymalloc_init);
module_exit(test_pymalloc_exit);
MODULE_DESCRIPTION("pymalloc kselftest workload driver");
MODULE_LICENSE("GPL");
