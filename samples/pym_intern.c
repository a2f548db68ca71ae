// SPDX-License-Identifier: GPL-2.0
/*
 * pym_intern.c - example pymalloc client: a string interning table, the
 * structure CPython itself keeps for identifiers, built on a heap of its
 * own. Each interned string is one variable-sized small allocation, which
 * is where pymalloc's 8-byte size classes pay off against kmalloc's
 * 8/16/32/64/96/128/192/256 steps.
 *
 * debugfs knobs, /sys/kernel/debug/pym_intern/:
 *   intern    write a word: intern it (or take one more reference)
 *   release   write a word: drop one reference; the last frees it
 *   fill      write N: intern N pseudo-random words of 1..60 characters
 *   clear     write anything: free every string
 *   stats     read: strings, references, requested bytes, heap figures
 */
#include <linux/debugfs.h>
#include <linux/hashtable.h>
#include <linux/jhash.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>

#include <pymalloc.h>

struct istr {
	struct hlist_node node;
	u32 hash;
	u32 refs;
	u16 len;
	char s[];
};

static DEFINE_HASHTABLE(table, 12);
static DEFINE_MUTEX(table_lock);
static struct pym_heap *heap;
static struct dentry *dir;
static unsigned long nstrings, nrefs, nbytes;
static u64 seed = 1;

static struct istr *lookup(const char *s, size_t len, u32 hash)
{
	struct istr *is;

	hash_for_each_possible(table, is, node, hash)
		if (is->hash == hash && is->len == len && !memcmp(is->s, s, len))
			return is;
	return NULL;
}

static int intern(const char *s, size_t len)
{
	u32 hash = jhash(s, len, 0);
	struct istr *is = lookup(s, len, hash);

	if (is) {
		is->refs++;
		nrefs++;
		return 0;
	}
	is = pym_heap_alloc(heap, struct_size(is, s, len + 1), GFP_KERNEL);
	if (!is)
		return -ENOMEM;
	is->hash = hash;
	is->refs = 1;
	is->len = len;
	memcpy(is->s, s, len);
	is->s[len] = '\0';
	hash_add(table, &is->node, hash);
	nstrings++;
	nrefs++;
	nbytes += struct_size(is, s, len + 1);
	return 0;
}

static void put(struct istr *is)
{
	nrefs--;
	if (--is->refs)
		return;
	hash_del(&is->node);
	nstrings--;
	nbytes -= struct_size(is, s, is->len + 1);
	pym_free(is);
}

static int release(const char *s, size_t len)
{
	struct istr *is = lookup(s, len, jhash(s, len, 0));

	if (!is)
		return -ENOENT;
	put(is);
	return 0;
}

static int fill(unsigned long n)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz_0123456789";
	char word[64];
	int err = 0;

	while (n-- && !err) {
		size_t len, i;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		len = 1 + (seed >> 33) % 60;
		for (i = 0; i < len; i++)
			word[i] = alphabet[(seed >> (i % 48)) % (sizeof(alphabet) - 1)];
		err = intern(word, len);
		cond_resched();
	}
	return err;
}

static void clear(void)
{
	struct hlist_node *tmp;
	struct istr *is;
	int bkt;

	hash_for_each_safe(table, bkt, tmp, is, node) {
		hash_del(&is->node);
		pym_free(is);
	}
	nstrings = 0;
	nrefs = 0;
	nbytes = 0;
}

/* One handler for every write knob; the knob is in file->private_data. */
static ssize_t knob_write(struct file *file, const char __user *ubuf,
			  size_t len, loff_t *ppos)
{
	const char *knob = file->f_path.dentry->d_name.name;
	char buf[128];
	unsigned long n;
	size_t wlen;
	int err;

	if (!len || len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	wlen = strcspn(buf, "\n\t ");
	mutex_lock(&table_lock);
	if (!strcmp(knob, "intern"))
		err = wlen ? intern(buf, wlen) : -EINVAL;
	else if (!strcmp(knob, "release"))
		err = wlen ? release(buf, wlen) : -EINVAL;
	else if (!strcmp(knob, "fill"))
		err = kstrtoul(strim(buf), 0, &n) ?: fill(n);
	else
		err = (clear(), 0);
	mutex_unlock(&table_lock);
	return err ? err : len;
}

static const struct file_operations knob_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = knob_write,
	.llseek = noop_llseek,
};

static int stats_show(struct seq_file *m, void *v)
{
	struct pym_stats st;
	int err = pym_heap_stats(heap, &st);

	if (err)
		return err;
	mutex_lock(&table_lock);
	seq_printf(m, "strings %lu\nreferences %lu\nrequested_bytes %lu\n",
		   nstrings, nrefs, nbytes);
	mutex_unlock(&table_lock);
	seq_printf(m, "heap_blocks %llu\nheap_block_bytes %llu\nheap_arenas %llu\nheap_arena_bytes %llu\n",
		   st.v[PYM_STAT_BLOCKS_IN_USE], st.v[PYM_STAT_BYTES_IN_USE],
		   st.v[PYM_STAT_ARENAS_CURRENT], st.v[PYM_STAT_BYTES_ARENAS]);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

static int __init pym_intern_init(void)
{
	heap = pym_heap_create("intern", 0);
	if (IS_ERR(heap))
		return PTR_ERR(heap);
	dir = debugfs_create_dir("pym_intern", NULL);
	debugfs_create_file("intern", 0200, dir, NULL, &knob_fops);
	debugfs_create_file("release", 0200, dir, NULL, &knob_fops);
	debugfs_create_file("fill", 0200, dir, NULL, &knob_fops);
	debugfs_create_file("clear", 0200, dir, NULL, &knob_fops);
	debugfs_create_file("stats", 0400, dir, NULL, &stats_fops);
	return 0;
}

static void __exit pym_intern_exit(void)
{
	debugfs_remove(dir);
	clear();
	pym_heap_destroy(heap);
}

module_init(pym_intern_init);
module_exit(pym_intern_exit);
MODULE_DESCRIPTION("pymalloc example: a string interning table on its own heap");
MODULE_LICENSE("GPL");
