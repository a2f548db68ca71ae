// SPDX-License-Identifier: GPL-2.0
/*
 * pym_bench.c - in-kernel microbenchmarks, pymalloc against kmalloc.
 *
 * Runs when loaded and keeps the table in debugfs pym_bench/results:
 * "<workload> <allocator> <ns per op>". Under QEMU's -icount shift=0 the
 * guest clock advances one nanosecond per instruction, so the same table
 * then gives instruction counts. Each workload runs in the same boot for
 * every allocator, with migration disabled, after a warm-up round; the
 * best of five rounds is kept, so that other tasks and interrupts (which
 * the clock also counts) stay out of the figures.
 */
#include <linux/debugfs.h>
#include <linux/kref.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include <pymalloc_object.h>

#define ITERS	100000
#define ROUNDS	5

struct kobj64 {
	struct kref ref;
	char data[64 - sizeof(struct kref)];
};

static char results[8192];
static size_t results_len;
static struct dentry *dir;

static struct pym_type type_nocache = {
	.name = "bench_nocache", .size = 64,
};

static struct pym_type type_cache = {
	.name = "bench_cache", .size = 64, .freelist_max = 256,
};

static void record(const char *workload, const char *alloc, u64 ns)
{
	results_len += scnprintf(results + results_len,
				 sizeof(results) - results_len,
				 "%-24s %-16s %llu.%02llu\n", workload, alloc,
				 ns / ITERS, ns % ITERS * 100 / ITERS);
}

static noinline u64 pair_kmalloc(size_t size)
{
	u64 t = ktime_get_ns();
	int i;

	for (i = 0; i < ITERS; i++)
		kfree(kmalloc(size, GFP_KERNEL));
	return ktime_get_ns() - t;
}

static noinline u64 pair_pymalloc(size_t size)
{
	u64 t = ktime_get_ns();
	int i;

	for (i = 0; i < ITERS; i++)
		pym_free(pym_alloc(size, GFP_KERNEL));
	return ktime_get_ns() - t;
}

/* Allocations and frees timed apart, in batches of 16 (magazine-sized). */
static noinline void split(void *(*alloc)(size_t, gfp_t), void (*free)(const void *),
			   u64 *ta, u64 *tf)
{
	void *v[16];
	u64 t;
	int i, j;

	*ta = 0;
	*tf = 0;
	for (i = 0; i < ITERS / 16; i++) {
		t = ktime_get_ns();
		for (j = 0; j < 16; j++)
			v[j] = alloc(64, GFP_KERNEL);
		*ta += ktime_get_ns() - t;
		t = ktime_get_ns();
		for (j = 0; j < 16; j++)
			free(v[j]);
		*tf += ktime_get_ns() - t;
	}
}

static void *kmalloc_fn(size_t size, gfp_t gfp)
{
	return kmalloc(size, gfp);
}

static void kfree_fn(const void *p)
{
	kfree(p);
}

static noinline u64 size_query(void)
{
	void *p = pym_alloc(64, GFP_KERNEL);
	size_t sum = 0;
	u64 t = ktime_get_ns();
	int i;

	for (i = 0; i < ITERS; i++)
		sum += pym_size(p);
	t = ktime_get_ns() - t;
	pym_free(p);
	return sum ? t : 0;
}

static void kobj_release(struct kref *ref)
{
	kfree(container_of(ref, struct kobj64, ref));
}

static noinline u64 obj_kref(void)
{
	u64 t = ktime_get_ns();
	int i;

	for (i = 0; i < ITERS; i++) {
		struct kobj64 *o = kzalloc(sizeof(*o), GFP_KERNEL);

		kref_init(&o->ref);
		kref_put(&o->ref, kobj_release);
	}
	return ktime_get_ns() - t;
}

static noinline u64 obj_pym(struct pym_type *type)
{
	u64 t = ktime_get_ns();
	int i;

	for (i = 0; i < ITERS; i++)
		pym_obj_put(pym_obj_new(type, GFP_KERNEL));
	return ktime_get_ns() - t;
}

#define BEST(expr) ({						\
	u64 best = U64_MAX;						\
	int r;								\
	for (r = 0; r < ROUNDS; r++)					\
		best = min(best, (u64)(expr));				\
	best;								\
})

static void run(void)
{
	static const size_t sizes[] = { 8, 16, 32, 64, 96, 128, 192, 256, 512 };
	char name[32];
	unsigned int i;
	u64 ta, tf;

	migrate_disable();
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		snprintf(name, sizeof(name), "pair-%zu", sizes[i]);
		record(name, "kmalloc", BEST(pair_kmalloc(sizes[i])));
		record(name, "pymalloc", BEST(pair_pymalloc(sizes[i])));
	}
	split(kmalloc_fn, kfree_fn, &ta, &tf);
	record("alloc-64", "kmalloc", ta);
	record("free-64", "kmalloc", tf);
	split(pym_alloc, pym_free, &ta, &tf);
	record("alloc-64", "pymalloc", ta);
	record("free-64", "pymalloc", tf);
	record("size-64", "pymalloc", BEST(size_query()));
	record("object-64", "kmalloc+kref", BEST(obj_kref()));
	record("object-64", "pym_obj", BEST(obj_pym(&type_nocache)));
	record("object-64", "pym_obj+freelist", BEST(obj_pym(&type_cache)));
	migrate_enable();
}

static int results_show(struct seq_file *m, void *v)
{
	seq_write(m, results, results_len);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(results);

static int __init pym_bench_init(void)
{
	int err = pym_type_register(&type_nocache);

	if (err)
		return err;
	err = pym_type_register(&type_cache);
	if (err) {
		pym_type_unregister(&type_nocache);
		return err;
	}
	run();
	dir = debugfs_create_dir("pym_bench", NULL);
	debugfs_create_file("results", 0400, dir, NULL, &results_fops);
	return 0;
}

static void __exit pym_bench_exit(void)
{
	debugfs_remove(dir);
	pym_type_unregister(&type_cache);
	pym_type_unregister(&type_nocache);
}

module_init(pym_bench_init);
module_exit(pym_bench_exit);
MODULE_DESCRIPTION("pymalloc microbenchmarks against kmalloc");
MODULE_LICENSE("GPL");
