// SPDX-License-Identifier: GPL-2.0
/*
 * pym_cache.c - how to use pymalloc objects: a cache of records, looked up
 * under RCU without locks and shared by several readers, freed by the last.
 *
 * The pattern is the one drivers use with kref + kfree_rcu, on pymalloc:
 *
 *  - each record is a pymalloc object (struct pym_object first); the table
 *    holds one reference, every reader that found a record holds one more;
 *  - readers walk a hash chain under rcu_read_lock() and take their
 *    reference with pym_obj_get_unless_zero(), which fails on a record that
 *    is already dying;
 *  - writers insert and delete under a spinlock and drop the table's
 *    reference; the last pym_obj_put() runs record_release();
 *  - the type is PYM_TYPE_DEFERRED_FREE: record_release() hands the memory
 *    back with pym_obj_free() only after an RCU grace period, so a reader
 *    still walking the chain never sees the record reused. Dead records
 *    then go to the type's per-CPU free list and serve the next inserts.
 *
 * debugfs, /sys/kernel/debug/pym_cache/:
 *   ctl    write "insert KEY VALUE", "delete KEY", "fill N" (keys 0..N-1),
 *          "clear", "sync" (wait for pending frees), or
 *          "stress READERS OPS": READERS kthreads look records up while a
 *          writer makes OPS random inserts and deletes;
 *          read: records, lookups, hits, misses, corrupt
 */
#include <linux/debugfs.h>
#include <linux/hashtable.h>
#include <linux/jhash.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/random.h>
#include <linux/rculist.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>

#include <pymalloc_object.h>

struct record {
	struct pym_object obj;		/* first, like PyObject_HEAD */
	struct hlist_node node;
	struct rcu_head rcu;
	u32 key;
	u32 check;			/* key ^ hash of value: readers verify it */
	char value[40];
};

static void record_release(struct pym_object *obj);

static struct pym_type record_type = {
	.name = "pym_cache_record",
	.size = sizeof(struct record),
	.release = record_release,
	.freelist_max = 256,
	.flags = PYM_TYPE_DEFERRED_FREE,
};

static DEFINE_HASHTABLE(table, 8);
static DEFINE_SPINLOCK(table_lock);	/* writers */
static DEFINE_MUTEX(ctl_lock);		/* one command at a time */
static atomic_long_t nrecords, nlookups, nhits, nmisses, ncorrupt;
static struct dentry *dir;

static u32 value_check(u32 key, const char *value)
{
	return key ^ jhash(value, strnlen(value, 40), 0);
}

static void record_free_rcu(struct rcu_head *rcu)
{
	pym_obj_free(&container_of(rcu, struct record, rcu)->obj);
}

/* The last reference is gone; readers may still see the memory: wait. */
static void record_release(struct pym_object *obj)
{
	call_rcu(&container_of(obj, struct record, obj)->rcu, record_free_rcu);
}

/* Returns the record with a reference the caller must put, or NULL. */
static struct record *lookup(u32 key)
{
	struct record *rec, *found = NULL;

	rcu_read_lock();
	hash_for_each_possible_rcu(table, rec, node, key) {
		if (rec->key == key && pym_obj_get_unless_zero(&rec->obj)) {
			found = rec;
			break;
		}
	}
	rcu_read_unlock();
	atomic_long_inc(&nlookups);
	atomic_long_inc(found ? &nhits : &nmisses);
	return found;
}

static int insert(u32 key, const char *value)
{
	struct record *rec, *old;
	struct pym_object *obj;

	obj = pym_obj_new(&record_type, GFP_KERNEL);
	if (!obj)
		return -ENOMEM;
	rec = container_of(obj, struct record, obj);
	rec->key = key;
	strscpy(rec->value, value, sizeof(rec->value));
	rec->check = value_check(key, rec->value);

	spin_lock(&table_lock);
	hash_for_each_possible(table, old, node, key) {
		if (old->key == key) {
			hlist_replace_rcu(&old->node, &rec->node);
			spin_unlock(&table_lock);
			pym_obj_put(&old->obj);
			return 0;
		}
	}
	hash_add_rcu(table, &rec->node, key);
	spin_unlock(&table_lock);
	atomic_long_inc(&nrecords);
	return 0;
}

static int delete(u32 key)
{
	struct record *rec;

	spin_lock(&table_lock);
	hash_for_each_possible(table, rec, node, key) {
		if (rec->key == key) {
			hash_del_rcu(&rec->node);
			spin_unlock(&table_lock);
			atomic_long_dec(&nrecords);
			pym_obj_put(&rec->obj);
			return 0;
		}
	}
	spin_unlock(&table_lock);
	return -ENOENT;
}

static void clear(void)
{
	struct hlist_node *tmp;
	struct record *rec;
	int bkt;

	spin_lock(&table_lock);
	hash_for_each_safe(table, bkt, tmp, rec, node) {
		hash_del_rcu(&rec->node);
		atomic_long_dec(&nrecords);
		pym_obj_put(&rec->obj);
	}
	spin_unlock(&table_lock);
}

static int fill(unsigned long n)
{
	char value[32];
	unsigned long k;
	int err = 0;

	for (k = 0; k < n && !err; k++) {
		snprintf(value, sizeof(value), "value-%lu", k);
		err = insert(k, value);
		cond_resched();
	}
	return err;
}

struct stress {
	struct completion done;
	unsigned int keys;
	bool stop;
};

static int reader_fn(void *arg)
{
	struct stress *s = arg;

	while (!READ_ONCE(s->stop)) {
		struct record *rec = lookup(get_random_u32_below(s->keys));

		if (rec) {
			if (rec->check != value_check(rec->key, rec->value))
				atomic_long_inc(&ncorrupt);
			pym_obj_put(&rec->obj);
		}
		cond_resched();
	}
	complete(&s->done);
	return 0;
}

static int stress(unsigned int readers, unsigned long ops)
{
	struct stress *s;
	unsigned int i, started = 0;
	char value[32];
	int err = 0;

	s = kcalloc(readers, sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	for (i = 0; i < readers; i++) {
		struct task_struct *t;

		init_completion(&s[i].done);
		s[i].keys = 512;
		t = kthread_run(reader_fn, &s[i], "pym_cache_rd/%u", i);
		if (IS_ERR(t)) {
			err = PTR_ERR(t);
			break;
		}
		started++;
	}
	while (ops-- && !err) {
		u32 key = get_random_u32_below(512);

		if (get_random_u32_below(2)) {
			snprintf(value, sizeof(value), "v%u-%u", key,
				 get_random_u32());
			err = insert(key, value);
		} else {
			delete(key);
		}
		cond_resched();
	}
	for (i = 0; i < started; i++) {
		WRITE_ONCE(s[i].stop, true);
		wait_for_completion(&s[i].done);
	}
	kfree(s);
	return err;
}

static ssize_t ctl_write(struct file *file, const char __user *ubuf,
			 size_t len, loff_t *ppos)
{
	char buf[96], cmd[16], value[48] = "";
	unsigned long a = 0, b = 0;
	int n, err = -EINVAL;

	if (!len || len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	n = sscanf(buf, "%15s %lu %47s", cmd, &a, value);
	if (n < 1)
		return -EINVAL;
	if (!strcmp(cmd, "stress"))
		n = sscanf(buf, "%15s %lu %lu", cmd, &a, &b);

	mutex_lock(&ctl_lock);
	if (!strcmp(cmd, "insert") && n == 3)
		err = insert(a, value);
	else if (!strcmp(cmd, "delete") && n == 2)
		err = delete(a);
	else if (!strcmp(cmd, "fill") && n == 2)
		err = fill(a);
	else if (!strcmp(cmd, "clear") && n == 1)
		err = (clear(), 0);
	else if (!strcmp(cmd, "sync") && n == 1)
		err = (rcu_barrier(), 0);
	else if (!strcmp(cmd, "stress") && n == 3 && a && a <= 64)
		err = stress(a, b);
	mutex_unlock(&ctl_lock);
	return err ? err : len;
}

static int ctl_show(struct seq_file *m, void *v)
{
	seq_printf(m, "records %ld\nlookups %ld\nhits %ld\nmisses %ld\ncorrupt %ld\n",
		   atomic_long_read(&nrecords), atomic_long_read(&nlookups),
		   atomic_long_read(&nhits), atomic_long_read(&nmisses),
		   atomic_long_read(&ncorrupt));
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

static int __init pym_cache_init(void)
{
	int err = pym_type_register(&record_type);

	if (err)
		return err;
	dir = debugfs_create_dir("pym_cache", NULL);
	debugfs_create_file("ctl", 0600, dir, NULL, &ctl_fops);
	return 0;
}

static void __exit pym_cache_exit(void)
{
	debugfs_remove(dir);
	clear();
	/* record_free_rcu() is our code: it must run before we go. */
	rcu_barrier();
	pym_type_unregister(&record_type);
}

module_init(pym_cache_init);
module_exit(pym_cache_exit);
MODULE_DESCRIPTION("pymalloc example: an RCU-protected cache of refcounted records");
MODULE_LICENSE("GPL");
