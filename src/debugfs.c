// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs.c - /sys/kernel/debug/pymalloc/<heap>/{stats,classes,arenas,check,
 * debug,callers,leaks}
 *
 * Files are root-only (0400) and never show kernel addresses: arenas are
 * named by ordinal.
 */
#define pr_fmt(fmt) "pymalloc: " fmt

#include <linux/debugfs.h>
#include <linux/fault-inject.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "internal.h"

static struct dentry *pym_debugfs_root;

struct seq_out {
	struct pym_out out;
	struct seq_file *m;
};

static __printf(2, 3) void seq_out_print(struct pym_out *out,
					  const char *fmt, ...)
{
	struct seq_out *so = container_of(out, struct seq_out, out);
	va_list args;

	va_start(args, fmt);
	seq_vprintf(so->m, fmt, args);
	va_end(args);
}

#define SEQ_OUT(seq) { .out.print = seq_out_print, .m = (seq) }

static int with_stats(struct seq_file *m,
		      void (*show)(struct pym_heap *, struct pym_core_stats *,
				   struct pym_out *))
{
	struct seq_out so = SEQ_OUT(m);
	struct pym_core_stats *st = kmalloc(sizeof(*st), GFP_KERNEL);

	if (!st)
		return -ENOMEM;
	pym_heap_collect(m->private, st);
	show(m->private, st, &so.out);
	kfree(st);
	return 0;
}

static void print_stats(struct pym_heap *heap, struct pym_core_stats *st,
			struct pym_out *out)
{
	pym_core_print_stats(st, out);
}

static int stats_show(struct seq_file *m, void *v)
{
	return with_stats(m, print_stats);
}
DEFINE_SHOW_ATTRIBUTE(stats);

static void print_classes(struct pym_heap *heap, struct pym_core_stats *st,
			  struct pym_out *out)
{
	pym_callers_requested(heap, st);
	pym_core_print_classes(st, out);
}

static int classes_show(struct seq_file *m, void *v)
{
	return with_stats(m, print_classes);
}
DEFINE_SHOW_ATTRIBUTE(classes);

static int arenas_show(struct seq_file *m, void *v)
{
	struct pym_heap *heap = m->private;
	struct seq_out so = SEQ_OUT(m);
	unsigned long flags;

	spin_lock_irqsave(&heap->core.lock, flags);
	pym_core_print_arenas(&heap->core, &so.out);
	spin_unlock_irqrestore(&heap->core.lock, flags);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(arenas);

static int check_show(struct seq_file *m, void *v)
{
	struct pym_heap *heap = m->private;
	struct seq_out so = SEQ_OUT(m);
	unsigned long flags;
	unsigned int n;

	spin_lock_irqsave(&heap->core.lock, flags);
	n = pym_core_check(&heap->core, &so.out);
	spin_unlock_irqrestore(&heap->core.lock, flags);
	if (heap->debug)
		n += pym_debug_check(heap, &so.out);
	if (n)
		pr_err("heap %s: check found %u violations\n",
		       heap->name, n);
	else
		seq_puts(m, "ok\n");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(check);

static int debug_show(struct seq_file *m, void *v)
{
	pym_debug_show(m->private, m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(debug);

static int leaks_show(struct seq_file *m, void *v)
{
	struct pym_heap *heap = m->private;

	if (heap->debug)
		pym_debug_leaks(heap, m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(leaks);

static int types_show(struct seq_file *m, void *v)
{
	pym_types_print(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(types);

void pym_debugfs_add_heap(struct pym_heap *heap)
{
	struct dentry *d = debugfs_create_dir(heap->name, pym_debugfs_root);

	heap->debugfs = d;
	debugfs_create_file("stats", 0400, d, heap, &stats_fops);
	debugfs_create_file("classes", 0400, d, heap, &classes_fops);
	debugfs_create_file("arenas", 0400, d, heap, &arenas_fops);
	debugfs_create_file("check", 0400, d, heap, &check_fops);
	debugfs_create_file("debug", 0400, d, heap, &debug_fops);
	pym_callers_add_heap(heap, d);
	if (heap->flags & PYM_HEAP_DEBUG)
		debugfs_create_file("leaks", 0400, d, heap, &leaks_fops);
}

void pym_debugfs_remove_heap(struct pym_heap *heap)
{
	debugfs_remove(heap->debugfs);
	heap->debugfs = NULL;
}

int pym_debugfs_init(void)
{
	pym_debugfs_root = debugfs_create_dir("pymalloc", NULL);
	debugfs_create_file("types", 0400, pym_debugfs_root, NULL, &types_fops);
#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
	fault_create_debugfs_attr("fail_arena", pym_debugfs_root,
				  &pym_fail_arena);
#endif
	return 0;
}

/* pymalloc's directory, for the files other parts add (collect.c). */
struct dentry *pym_debugfs_dir(void)
{
	return pym_debugfs_root;
}

void pym_debugfs_exit(void)
{
	debugfs_remove(pym_debugfs_root);
}
