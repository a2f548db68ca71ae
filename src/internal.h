/* SPDX-License-Identifier: GPL-2.0 */
/*
 * internal.h - what the kernel side of pymalloc shares between its files.
 * The allocator core does not include this; it sees only core.h.
 */
#ifndef _PYM_INTERNAL_H
#define _PYM_INTERNAL_H

#include <linux/build_bug.h>
#include <linux/jump_label.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/sched/task_stack.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include <pymalloc.h>
#include <pymalloc_object.h>

#include "arenamap.h"
#include "core.h"
#include "gc.h"
#include "freelist.h"
#include "pcpu.h"

/* Heap and type names: 1..31 characters, see pym_valid_name(). */
#define PYM_NAME_MAX		32
/* A type's own heap: this prefix, the type's name, "-N" if taken. */
#define PYM_TYPE_HEAP_PREFIX	"type-"
#define PYM_HEAP_NAME_MAX	(sizeof(PYM_TYPE_HEAP_PREFIX) - 1 + PYM_NAME_MAX + 3)

/* What the public header promises, the core's geometry keeps. */
static_assert(PYM_SMALL_MAX == PYM_SMALL_THRESHOLD);
static_assert(PYM_ARENA_BYTES == PYM_ARENA_SIZE);
static_assert(PYM_POOL_BYTES == PYM_POOL_SIZE);
static_assert(sizeof_field(struct pym_stats, v) ==
	      sizeof_field(struct pym_core_stats, v));

struct pym_heap {
	struct pym_core core;		/* under core.lock */
	struct pym_pcpu __percpu *pcpu;	/* NULL: PYM_HEAP_NOCACHE, or retired */
	struct pym_depot *depot;	/* one per class, with pcpu */
	struct delayed_work idle_work;	/* gives an idle heap's caches back */
	atomic_long_t mag_activity;	/* refills and overflows */
	unsigned long idle_seen;	/* mag_activity at the last look */
	char name[PYM_HEAP_NAME_MAX];
	struct list_head node;		/* pym_heaps: RCU, changed under pym_heaps_lock */
	struct dentry *debugfs;
	unsigned long reported;		/* refusals reported, by kind (alloc.c) */
	unsigned int flags;		/* PYM_HEAP_* */
	struct pym_debug *debug;	/* PYM_HEAP_DEBUG's state (debug.c) */
	bool dead;			/* destroyed while blocks were live */
	struct rcu_head rcu;
};

extern struct pym_heap *pym_default_heap;
extern unsigned int pym_keep_empty_arenas;
extern bool pym_debug_default;
#ifdef CONFIG_FAULT_INJECTION
extern struct fault_attr pym_fail_arena;
#endif

static inline struct pym_heap *pym_core_heap(struct pym_core *core)
{
	return container_of(core, struct pym_heap, core);
}

/* heap.c */
/* The kernel's wrapper around the core's arena descriptor. */
struct pym_karena {
	struct rcu_head rcu;
	struct pym_heap *heap;		/* outlives the arena: heap_retire() */
	struct pym_arena a;
};

int pym_heaps_init(void);
void pym_heaps_exit(void);
bool pym_heaps_any(bool (*fn)(struct pym_heap *heap, void *arg), void *arg);
unsigned long pym_heaps_trim(void);
u64 pym_heaps_reclaimable(void);
bool pym_valid_name(const char *name);
struct pym_heap *pym_type_heap_create(const char *type_name, unsigned int flags);
void pym_heap_collect(struct pym_heap *heap, struct pym_core_stats *st);
struct pym_karena *pym_karena_new(struct pym_heap *heap, gfp_t gfp, int nid);
void pym_karena_free(struct pym_karena *ka);
int pym_karenas_init(void);
void pym_karena_leaked(struct pym_arena *a);
void pym_karenas_exit(void);
int pym_heap_grow(struct pym_heap *heap, gfp_t gfp);
void pym_heap_release_arenas(struct pym_arena *a);
void pym_heap_age(struct pym_heap *heap, bool forget);
void pym_heap_drained(struct pym_heap *heap);

/* arenamap.c */
int pym_arena_map(void *base, struct pym_arena *a, gfp_t gfp);
void pym_arena_unmap(void *base);
int pym_arena_map_init(void);
void pym_arena_map_exit(void);

/* alloc.c, for object.c, debug.c and rcu.c */
bool pym_free_check(const void *p, unsigned long caller);
void *pym_heap_alloc_caller(struct pym_heap *heap, size_t size, gfp_t gfp,
			    unsigned long caller);
void *pym_heap_alloc_block(struct pym_heap *heap, size_t size, gfp_t gfp);
void pym_heap_free_block(struct pym_heap *heap, struct pym_arena *a,
			 const void *p, unsigned long caller);
void pym_heap_refused(struct pym_heap *heap, enum pym_stat kind,
		      const void *p, unsigned long caller);

/* debug.c: what a debug block adds to the request, at least */
#define PYM_DEBUG_OVERHEAD	32
struct seq_file;
int pym_debug_create(struct pym_heap *heap);
void pym_debug_destroy(struct pym_heap *heap);
void *pym_debug_alloc(struct pym_heap *heap, size_t size, gfp_t gfp);
void pym_debug_free(struct pym_heap *heap, struct pym_arena *a,
		    const void *p, unsigned long caller);
size_t pym_debug_size(struct pym_heap *heap, struct pym_arena *a,
		      const void *p);
unsigned int pym_debug_check(struct pym_heap *heap, struct pym_out *out);
u64 pym_debug_leaks(struct pym_heap *heap, struct seq_file *m);
void pym_debug_show(struct pym_heap *heap, struct seq_file *m);

/* large.c: the record's grain, the smallest kmalloc block it takes */
#define PYM_LARGE_SLOT		64U
void *pym_large_alloc(size_t size, gfp_t gfp);
enum pym_stat pym_large_free(const void *p);
enum pym_stat pym_large_check(const void *p);
size_t pym_large_size(const void *p);
void pym_large_exit(void);

/*
 * trace.c: on while an allocation or free event has a probe, or sampling
 * is on; the one branch the fast paths pay for both.
 */
DECLARE_STATIC_KEY_FALSE(pym_observing);
void pym_observe_alloc(struct pym_heap *heap, const void *p, size_t size,
		       gfp_t gfp, unsigned long caller);

/* callers.c: the sampled profile of live blocks by call site */
DECLARE_STATIC_KEY_FALSE(pym_sampling);
DECLARE_PER_CPU(int, pym_sample_left);
struct dentry;
int pym_callers_init(struct dentry *root);
void pym_callers_exit(void);
void pym_callers_add_heap(struct pym_heap *heap, struct dentry *dir);
void pym_callers_sample(struct pym_heap *heap, const void *p, size_t size,
			unsigned long caller);
void pym_callers_free(struct pym_arena *a, const void *p);
void pym_callers_requested(struct pym_heap *heap, struct pym_core_stats *st);

/* An allocation's share of the sampling: one per-CPU decrement. */
static __always_inline void pym_callers_alloc(struct pym_heap *heap,
					      const void *p, size_t size,
					      unsigned long caller)
{
	if (static_branch_unlikely(&pym_sampling) &&
	    this_cpu_dec_return(pym_sample_left) <= 0)
		pym_callers_sample(heap, p, size, caller);
}

/* Must a free of p, a block of arena a, look for its sample? */
static __always_inline bool pym_callers_pool(const struct pym_arena *a,
					     const void *p)
{
	return static_branch_unlikely(&pym_sampling) &&
	       unlikely(READ_ONCE(a->sampled[pym_pool_index(p)]));
}

/* rcu.c */
void pym_rcu_init(struct dentry *root);
void pym_rcu_exit(void);

/* pcpu.c */
int pym_pcpu_init(void);
void pym_pcpu_exit(void);
int pym_pcpu_create(struct pym_heap *heap);
void pym_pcpu_destroy(struct pym_heap *heap, struct pym_pcpu __percpu *pcpu);
void pym_pcpu_busy(struct pym_heap *heap);
void pym_pcpu_drain(struct pym_heap *heap, struct pym_pcpu __percpu *pcpu,
		    bool offline);
void pym_pcpu_drain_all(void);
bool pym_pcpu_reclaim_class(struct pym_heap *heap,
			    struct pym_pcpu __percpu *pcpu, unsigned int cls);
void pym_pcpu_count(struct pym_heap *heap, u64 *cached);

/* debugfs.c */
int pym_debugfs_init(void);
void pym_debugfs_exit(void);
void pym_debugfs_add_heap(struct pym_heap *heap);
void pym_debugfs_remove_heap(struct pym_heap *heap);
struct dentry *pym_debugfs_dir(void);

/* Per CPU state of a type; who may touch it: object.c. */
struct pym_type_pcpu {
#ifdef CONFIG_PREEMPT_RT
	spinlock_t lock;		/* owns c's list, from any CPU */
#endif
	struct pym_freelist c;
};

struct pym_type_state {
	struct pym_type type;		/* what objects point at */
	struct pym_type *client;	/* NULL once the owner is gone */
	struct module *owner;
	struct pym_heap *heap;		/* NULL: the default heap */
	struct pym_type_pcpu __percpu *pcpu;
	struct list_head node;		/* pym_types, under pym_types_lock */
	unsigned int gc_header;		/* a container's header, before the object */
	unsigned int prefix;		/* bytes before the object: item count, header */
	unsigned long gc_reported;	/* its over-reporting traverse, once */
	unsigned long damage_reported;	/* a damaged free list, once */
	bool orphaned;
};

/* A container object's collector header is right in front of it. */
static inline struct pym_gc_head *pym_obj_gc_head(struct pym_object *obj)
{
	return (struct pym_gc_head *)obj - 1;
}

static inline struct pym_object *pym_gc_head_obj(struct pym_gc_head *h)
{
	return (struct pym_object *)(h + 1);
}

/* collect.c */
struct dentry;
void pym_collector_init(struct dentry *root);
void pym_collector_exit(void);
void pym_collector_track(struct pym_object *obj);
void pym_collector_untrack(struct pym_object *obj);
u64 pym_collector_tracked(void);
u64 pym_collector_generation(unsigned int g, long *count);

/* object.c */
struct seq_file;
int pym_types_init(void);
void pym_types_exit(void);
void pym_types_print(struct seq_file *m);
u64 pym_types_reclaimable(void);
void pym_types_drain(void);
void pym_type_lengths(struct pym_type_state *st,
		      u64 len[PYM_FREELIST_LENGTHS]);
void pym_types_module_gone(struct module *mod);
void pym_obj_release(struct pym_object *obj);

/* trashcan.c */
enum pym_trash_depth {
	PYM_TRASH_DEPOSITED,	/* released later, from the work item */
	PYM_TRASH_ON_STACK,	/* release now */
	PYM_TRASH_IRQ_NESTED,	/* release now, then pym_trash_leave() */
};

enum pym_trash_depth pym_trash_enter_slow(struct pym_object *obj);

/*
 * The final put of a container: whether obj's release() may run here, or
 * obj was deposited, to be released later from the work item. Inline for
 * the common case: on the task stack, in its upper half.
 */
static __always_inline enum pym_trash_depth
pym_trash_enter(struct pym_object *obj)
{
#ifndef CONFIG_STACK_GROWSUP
	unsigned long left = (unsigned long)__builtin_frame_address(0) -
			     (unsigned long)task_stack_page(current);

	if (likely(left - THREAD_SIZE / 2 < THREAD_SIZE / 2))
		return PYM_TRASH_ON_STACK;
#endif
	return pym_trash_enter_slow(obj);
}

void pym_trash_leave(void);
void pym_trash_flush(void);
u64 pym_trash_deposited(void);

#endif /* _PYM_INTERNAL_H */
