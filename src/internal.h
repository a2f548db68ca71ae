/* SPDX-License-Identifier: GPL-2.0 */
/*
 * internal.h - what the kernel side of pymalloc shares between its files.
 * The allocator core does not include this; it sees only core.h.
 */
#ifndef _PYM_INTERNAL_H
#define _PYM_INTERNAL_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include <pymalloc.h>
#include <pymalloc_object.h>

#include "arenamap.h"
#include "core.h"
#include "objcache.h"
#include "pcpu.h"

/* Heap and type names: 1..31 characters, see pym_valid_name(). */
#define PYM_NAME_MAX		32
/* A type's own heap: this prefix, the type's name, "-N" if taken. */
#define PYM_TYPE_HEAP_PREFIX	"type-"
#define PYM_HEAP_NAME_MAX	(sizeof(PYM_TYPE_HEAP_PREFIX) - 1 + PYM_NAME_MAX + 3)

/* Kinds of bad input, each reported once per heap and always counted. */
enum pym_bad {
	PYM_BAD_DOUBLE_FREE,
	PYM_BAD_INTERIOR,
	PYM_BAD_FOREIGN,
	PYM_BAD_SIZE,
	PYM_BAD_NR,
};

struct pym_heap {
	spinlock_t lock;		/* protects core */
	struct pym_core core;
	struct pym_pcpu __percpu *pcpu;	/* NULL: PYM_HEAP_NOCACHE, or retired */
	struct pym_pcpu_depot *depot;	/* one per class, with pcpu */
	struct delayed_work idle_work;	/* gives an idle heap's caches back */
	atomic_long_t mag_activity;	/* refills and overflows */
	unsigned long idle_seen;	/* mag_activity at the last look */
	char name[PYM_HEAP_NAME_MAX];
	struct list_head node;		/* pym_heaps: RCU, changed under pym_heaps_lock */
	struct dentry *debugfs;
	unsigned long reported;		/* enum pym_bad bits already reported */
	bool dead;			/* destroyed while blocks were live */
	struct rcu_head rcu;
};

extern struct pym_heap *pym_default_heap;
extern struct list_head pym_heaps;
extern struct mutex pym_heaps_lock;
extern unsigned int pym_keep_empty_arenas;
#ifdef CONFIG_FAULT_INJECTION
extern struct fault_attr pym_fail_arena;
#endif

int pym_heaps_init(void);
void pym_heaps_exit(void);
unsigned long pym_heaps_trim(void);
unsigned long pym_heaps_reclaimable(void);
bool pym_valid_name(const char *name);
struct pym_heap *pym_type_heap_create(const char *type_name);
void pym_heap_collect(struct pym_heap *heap, struct pym_core_stats *st);

void pym_release_arenas(struct pym_arena *a);
int pym_arena_map(void *base, struct pym_arena *a, gfp_t gfp);
void pym_arena_unmap(void *base);
void pym_arena_map_exit(void);
void pym_large_exit(void);

void pym_mag_drain(struct pym_heap *heap, struct pym_pcpu __percpu *pcpu,
		   bool offline);
void pym_mags_drain_all(void);
void pym_mag_count(struct pym_heap *heap, u64 *cached);
int pym_pcpu_create(struct pym_heap *heap);
void pym_pcpu_destroy(struct pym_heap *heap, struct pym_pcpu __percpu *pcpu);
void pym_idle_work(struct work_struct *work);
int pym_pcpu_init(void);
void pym_pcpu_exit(void);

int pym_debugfs_init(void);
void pym_debugfs_exit(void);
void pym_debugfs_add_heap(struct pym_heap *heap);
void pym_debugfs_remove_heap(struct pym_heap *heap);

/* Per CPU state of a type; who may touch it: object.c. */
struct pym_type_pcpu {
#ifdef CONFIG_PREEMPT_RT
	spinlock_t lock;		/* owns c's list, from any CPU */
#endif
	struct pym_objcache c;
};

struct pym_type_state {
	struct pym_type type;		/* what objects point at */
	struct pym_type *client;	/* NULL once the owner is gone */
	struct module *owner;
	struct pym_heap *heap;		/* NULL: the default heap */
	struct pym_type_pcpu __percpu *pcpu;
	struct list_head node;		/* pym_types, under pym_types_lock */
	bool orphaned;
};

struct seq_file;
int pym_types_init(void);
void pym_types_exit(void);
void pym_types_print(struct seq_file *m);
unsigned long pym_types_reclaimable(void);
unsigned long pym_types_drain(void);
void pym_types_module_gone(struct module *mod);

#endif /* _PYM_INTERNAL_H */
