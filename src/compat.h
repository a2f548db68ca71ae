/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - the kernel API differences between the kernels pymalloc
 * builds against (Debian's 6.1 and 6.12, and the 6.12 debug kernel).
 */
#ifndef _PYM_COMPAT_H
#define _PYM_COMPAT_H

#include <linux/seq_file.h>
#include <linux/shrinker.h>
#include <linux/slab.h>

/* Kbuild defines the PYM_HAVE_* symbols by looking at the headers. */
#ifdef PYM_HAVE_KUNIT_VISIBILITY
#include <kunit/visibility.h>
#else
/* No KUnit on such kernels; a redundant declaration keeps the syntax. */
#define EXPORT_SYMBOL_IF_KUNIT(symbol) static_assert(sizeof(symbol))
#endif

/* 6.2 added the read-write twin of DEFINE_SHOW_ATTRIBUTE(); the same here. */
#ifndef DEFINE_SHOW_STORE_ATTRIBUTE
#define DEFINE_SHOW_STORE_ATTRIBUTE(__name)				\
static int __name ## _open(struct inode *inode, struct file *file)	\
{									\
	return single_open(file, __name ## _show, inode->i_private);	\
}									\
									\
static const struct file_operations __name ## _fops = {			\
	.owner		= THIS_MODULE,					\
	.open		= __name ## _open,				\
	.read		= seq_read,					\
	.write		= __name ## _write,				\
	.llseek		= seq_lseek,					\
	.release	= single_release,				\
}
#endif

/* 6.7 turned shrinkers into separately allocated, refcounted objects. */
#ifdef PYM_HAVE_SHRINKER_ALLOC
static inline struct shrinker *
pym_shrinker_register(unsigned long (*count)(struct shrinker *,
					     struct shrink_control *),
		      unsigned long (*scan)(struct shrinker *,
					    struct shrink_control *))
{
	struct shrinker *s = shrinker_alloc(0, "pymalloc");

	if (!s)
		return NULL;
	s->count_objects = count;
	s->scan_objects = scan;
	s->seeks = DEFAULT_SEEKS;
	shrinker_register(s);
	return s;
}

static inline void pym_shrinker_unregister(struct shrinker *s)
{
	shrinker_free(s);
}
#else
static struct shrinker pym_shrinker_static;

static inline struct shrinker *
pym_shrinker_register(unsigned long (*count)(struct shrinker *,
					     struct shrink_control *),
		      unsigned long (*scan)(struct shrinker *,
					    struct shrink_control *))
{
	pym_shrinker_static.count_objects = count;
	pym_shrinker_static.scan_objects = scan;
	pym_shrinker_static.seeks = DEFAULT_SEEKS;
	return register_shrinker(&pym_shrinker_static, "pymalloc") ?
	       NULL : &pym_shrinker_static;
}

static inline void pym_shrinker_unregister(struct shrinker *s)
{
	unregister_shrinker(s);
}
#endif

/* Before 6.5 no flag keeps a cache apart; pym_arena may then be merged. */
#ifndef SLAB_NO_MERGE
#define SLAB_NO_MERGE	0
#endif

#endif /* _PYM_COMPAT_H */
