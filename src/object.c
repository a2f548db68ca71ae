// SPDX-License-Identifier: GPL-2.0
/*
 * object.c - refcounted typed objects and per-type free lists.
 *
 * A registered type is a struct pym_type_state owned by pymalloc: a copy of
 * the caller's description (objects point at the copy, so nothing dangles
 * when the registering module goes away), per-CPU free lists of dead
 * objects and per-CPU counters. The bound freelist_max is split over the
 * possible CPUs.
 *
 * Who may touch a CPU's list (as for the heaps' magazines, pcpu.h):
 * without PREEMPT_RT, that CPU with interrupts off (puts come from hardirq
 * context too), no lock; other CPUs reach it by IPI. On RT, where
 * spinlock_t sleeps and an IPI could not take one, whoever holds the
 * list's own spinlock, from any CPU.
 *
 * Lists are drained when the type is unregistered and when the shrinker
 * asks: the online CPUs' lists, in one IPI round or on RT lock by lock,
 * without the CPU hotplug lock, which reclaim must not take (CPU hotplug
 * allocates memory under it). An offline CPU's list waits for its CPU to
 * come back, or for unregistration, which holds hotplug off and drains it
 * directly.
 */
#define pr_fmt(fmt) "pymalloc: " fmt

#include <linux/cpu.h>
#include <linux/ctype.h>
#include <linux/overflow.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/smp.h>

#include <pymalloc_object.h>

#include "compat.h"
#include "internal.h"
#include "pym_trace.h"

static LIST_HEAD(pym_types);
static DEFINE_MUTEX(pym_types_lock);

#define PYM_TYPE_FLAGS	(PYM_TYPE_OWN_HEAP | PYM_TYPE_DEFERRED_FREE | PYM_TYPE_PINNED)

static struct pym_type_state *type_state(const struct pym_object *obj)
{
	return obj->type->state;
}

static unsigned long free_list(void *obj)
{
	unsigned long n = 0;

	while (obj) {
		void *next = pym_freelist_chain_next(obj);

		pym_free(obj);
		obj = next;
		n++;
	}
	return n;
}

/* Own this CPU's list of st (see above). */
static __always_inline struct pym_type_pcpu *
list_lock(struct pym_type_state *st, unsigned long *flags)
{
	struct pym_type_pcpu *pc;

#ifdef CONFIG_PREEMPT_RT
	pc = raw_cpu_ptr(st->pcpu);
	spin_lock_irqsave(&pc->lock, *flags);
#else
	local_irq_save(*flags);
	pc = this_cpu_ptr(st->pcpu);
#endif
	return pc;
}

static __always_inline void list_unlock(struct pym_type_pcpu *pc,
					unsigned long flags)
{
#ifdef CONFIG_PREEMPT_RT
	spin_unlock_irqrestore(&pc->lock, flags);
#else
	local_irq_restore(flags);
#endif
}

/*
 * Free the dead objects on cpu's list of st. The caller owns the list: on
 * RT it is locked here; otherwise cpu is this CPU with interrupts off (an
 * IPI), or an offline CPU with hotplug held off.
 */
static unsigned long drain_list(struct pym_type_state *st, int cpu)
{
	struct pym_type_pcpu *pc = per_cpu_ptr(st->pcpu, cpu);
	void *list;

	if (!READ_ONCE(pc->c.count))
		return 0;
#ifdef CONFIG_PREEMPT_RT
	spin_lock_irq(&pc->lock);
	list = pym_freelist_take(&pc->c);
	spin_unlock_irq(&pc->lock);
#else
	list = pym_freelist_take(&pc->c);
#endif
	return free_list(list);
}

struct drain_ctx {
	struct pym_type_state *only;	/* NULL: every type */
	atomic_long_t freed;
};

/* Drain cpu's lists of dc's types; pym_types_lock keeps the list still. */
static void drain_cpu(int cpu, struct drain_ctx *dc)
{
	struct pym_type_state *st;

	if (dc->only) {
		atomic_long_add(drain_list(dc->only, cpu), &dc->freed);
		return;
	}
	list_for_each_entry(st, &pym_types, node)
		atomic_long_add(drain_list(st, cpu), &dc->freed);
}

#ifndef CONFIG_PREEMPT_RT
static bool cpu_has_dead(int cpu, void *arg)
{
	struct drain_ctx *dc = arg;
	struct pym_type_state *st;

	if (dc->only)
		return READ_ONCE(per_cpu_ptr(dc->only->pcpu, cpu)->c.count);
	list_for_each_entry(st, &pym_types, node)
		if (READ_ONCE(per_cpu_ptr(st->pcpu, cpu)->c.count))
			return true;
	return false;
}

static void drain_this_cpu(void *arg)
{
	drain_cpu(smp_processor_id(), arg);
}
#endif

/*
 * The dead objects of only, or of every type if NULL, on the online CPUs;
 * with offline set (unregistration, process context) on every CPU.
 */
static unsigned long drain(struct pym_type_state *only, bool offline)
{
	struct drain_ctx dc = { .only = only };
	int cpu;

	lockdep_assert_held(&pym_types_lock);
#ifdef CONFIG_PREEMPT_RT
	for_each_possible_cpu(cpu)
		drain_cpu(cpu, &dc);
#else
	if (!offline) {
		on_each_cpu_cond(cpu_has_dead, drain_this_cpu, &dc, true);
		return atomic_long_read(&dc.freed);
	}
	cpus_read_lock();
	on_each_cpu_cond(cpu_has_dead, drain_this_cpu, &dc, true);
	for_each_possible_cpu(cpu)
		if (!cpu_online(cpu))
			drain_cpu(cpu, &dc);
	cpus_read_unlock();
#endif
	return atomic_long_read(&dc.freed);
}

struct type_counts {
	u64 allocated, released, freed, hits, listed, cap, dropped;
};

static void sum_counts(struct pym_type_state *st, struct type_counts *tc)
{
	int cpu;

	memset(tc, 0, sizeof(*tc));
	for_each_possible_cpu(cpu) {
		struct pym_type_pcpu *pc = per_cpu_ptr(st->pcpu, cpu);

		tc->allocated += READ_ONCE(pc->c.allocated);
		tc->released += READ_ONCE(pc->c.released);
		tc->freed += READ_ONCE(pc->c.freed);
		tc->hits += READ_ONCE(pc->c.hits);
		tc->listed += READ_ONCE(pc->c.count);
		tc->cap += pc->c.cap;
		tc->dropped += READ_ONCE(pc->c.dropped);
	}
}

/* The block size of an object of st with n items. */
static size_t type_block(const struct pym_type_state *st, unsigned int n)
{
	return st->prefix + st->type.size + n * st->type.itemsize;
}

/*
 * Could p be the memory of a dead object of n items of c's type? A small
 * one is an allocated block of the right class in an arena of the type's
 * heap; a larger one is a kmalloc block pymalloc holds. Runs with the list
 * owned (interrupts or preemption off, or on RT a spinlock): an RCU reader.
 */
bool pym_freelist_valid(const struct pym_freelist *c, const void *p,
			unsigned int n)
{
	const struct pym_type_state *st = c->owner;
	size_t block = type_block(st, n);
	struct pym_heap *heap = st->heap ?: pym_default_heap;
	struct pym_arena *a;

	if ((unsigned long)p & (PYM_ALIGN - 1))
		return false;
	/* A debug heap's blocks are not where the object is: it checks them. */
	if (heap->debug)
		return true;
	if (block > PYM_SMALL_MAX)
		return pym_large_size(p);
	a = pym_arena_lookup(p);
	if (!a || READ_ONCE(a->core) != &heap->core)
		return false;
	return READ_ONCE(pym_pool_of(a, p)->cls) == pym_size_class(block) &&
	       pym_block_check(a, p) == PYM_BLOCK_OK;
}

/*
 * The first word of a dead object on a free list did not decode to a
 * link: something wrote to the object after its last put. The list was
 * dropped (freelist.h); say which type, once per type.
 */
void pym_freelist_damaged(struct pym_freelist *c, void *obj, unsigned int n,
			  unsigned long link)
{
	struct pym_type_state *st = c->owner;

	if (test_and_set_bit(0, &st->damage_reported))
		return;
	pr_err("type %s: dead object %p (%u items) on a free list was written after its last put (link word %#lx); its list dropped, further reports suppressed\n",
	       st->type.name, obj, n, link);
}

/*
 * The dead objects listed per item count, over the CPUs; what types shows
 * for a variable-size type.
 */
void pym_type_lengths(struct pym_type_state *st,
		      u64 len[PYM_FREELIST_LENGTHS])
{
	unsigned int n;
	int cpu;

	memset(len, 0, PYM_FREELIST_LENGTHS * sizeof(*len));
	for_each_possible_cpu(cpu)
		for (n = 0; n < PYM_FREELIST_LENGTHS; n++)
			len[n] += READ_ONCE(per_cpu_ptr(st->pcpu, cpu)->c.len[n]);
}
EXPORT_SYMBOL_IF_KUNIT(pym_type_lengths);

/* A variable-size object keeps its item count in front of it. */
#define PYM_VAR_HEADER		sizeof(u64)
#define PYM_PREFIX_MAX		(PYM_VAR_HEADER + sizeof(struct pym_gc_head))

/* Pinned objects come from pools of their own heap: none from kmalloc. */
static bool pinnable(const struct pym_type *type)
{
	size_t prefix = type->traverse ? sizeof(struct pym_gc_head) : 0;

	return (type->flags & PYM_TYPE_OWN_HEAP) && !type->itemsize &&
	       type->size + prefix <= PYM_SMALL_MAX;
}

static bool valid_type(const struct pym_type *type)
{
	return pym_valid_name(type->name) &&
	       type->size >= sizeof(struct pym_object) &&
	       type->size <= KMALLOC_MAX_SIZE - PYM_PREFIX_MAX &&
	       type->itemsize <= KMALLOC_MAX_SIZE &&
	       !(type->flags & ~PYM_TYPE_FLAGS) &&
	       !type->traverse == !type->clear &&
	       (!(type->flags & PYM_TYPE_PINNED) || pinnable(type));
}

static struct pym_type_state *find_type(const char *name)
{
	struct pym_type_state *st;

	/* An orphan keeps its name for reports, not for registration. */
	list_for_each_entry(st, &pym_types, node)
		if (!st->orphaned && !strcmp(st->type.name, name))
			return st;
	return NULL;
}

static void state_free(struct pym_type_state *st)
{
	if (st->heap)
		pym_heap_destroy(st->heap);
	free_percpu(st->pcpu);
	kfree(st->type.name);
	kfree(st);
}

static int state_init(struct pym_type_state *st, const struct pym_type *type)
{
	unsigned int ncpus = num_possible_cpus(), i = 0;
	unsigned long secret = get_random_long();
	int cpu;

	st->type = *type;
	st->type.state = st;
	st->gc_header = type->traverse ? sizeof(struct pym_gc_head) : 0;
	st->prefix = st->gc_header + (type->itemsize ? PYM_VAR_HEADER : 0);
	st->type.name = kstrdup(type->name, GFP_KERNEL);
	st->pcpu = alloc_percpu(struct pym_type_pcpu);
	if (!st->type.name || !st->pcpu)
		return -ENOMEM;
	/* Split the bound exactly: the first (max % ncpus) CPUs get one more. */
	for_each_possible_cpu(cpu) {
		struct pym_type_pcpu *pc = per_cpu_ptr(st->pcpu, cpu);

#ifdef CONFIG_PREEMPT_RT
		spin_lock_init(&pc->lock);
#endif
		pc->c.cap = type->freelist_max / ncpus +
			  (i++ < type->freelist_max % ncpus);
		pc->c.secret = secret;
		pc->c.owner = st;
	}
	if (type->flags & PYM_TYPE_OWN_HEAP) {
		st->heap = pym_type_heap_create(type->name,
						type->flags & PYM_TYPE_PINNED ?
						PYM_HEAP_PINNED : 0);
		if (IS_ERR(st->heap)) {
			int err = PTR_ERR(st->heap);

			st->heap = NULL;
			return err;
		}
	}
	return 0;
}

static void report_invalid(const struct pym_type *type)
{
	if (!type)
		pr_err("type_register: NULL type\n");
	else if (!pym_valid_name(type->name))
		pr_err("type_register: invalid name \"%*pE\": 1..%d characters of [A-Za-z0-9_.:-], not starting with '.'\n",
		       type->name ? (int)strnlen(type->name, PYM_NAME_MAX) : 0,
		       type->name ?: "", PYM_NAME_MAX - 1);
	else if (type->flags & ~PYM_TYPE_FLAGS)
		pr_err("type_register: type %s: unknown flags %#x\n",
		       type->name, type->flags & ~(unsigned int)PYM_TYPE_FLAGS);
	else if (!type->traverse != !type->clear)
		pr_err("type_register: type %s: traverse and clear go together\n",
		       type->name);
	else if ((type->flags & PYM_TYPE_PINNED) && !pinnable(type))
		pr_err("type_register: type %s: PYM_TYPE_PINNED needs PYM_TYPE_OWN_HEAP, a fixed size and objects of at most %d bytes\n",
		       type->name, PYM_SMALL_MAX);
	else
		pr_err("type_register: type %s: size %zu not in %zu..%lu\n",
		       type->name, type->size, sizeof(struct pym_object),
		       (unsigned long)(KMALLOC_MAX_SIZE - PYM_PREFIX_MAX));
}

static u64 unregister_locked(struct pym_type_state *st);

/* Orphans whose last object is gone have nothing left to keep. */
static void reap_orphans(void)
{
	struct pym_type_state *st, *tmp;

	list_for_each_entry_safe(st, tmp, &pym_types, node)
		if (st->orphaned)
			unregister_locked(st);
}

/**
 * __pym_type_register() - register a type of objects
 * @type: the description; pymalloc keeps a copy and sets @type->state
 * @owner: the registering module (pym_type_register() passes THIS_MODULE)
 *
 * Names follow pymalloc's one rule (1..31 characters of [A-Za-z0-9_.:-],
 * not starting with '.'). A type orphaned by its module's unload (see
 * struct pym_type) gives its name up: the module, reloaded, registers it
 * again while the orphan's objects live on.
 *
 * Context: process context; sleeps.
 * Return: 0; -EINVAL for a bad name, size or flags (reported); -EEXIST
 * when @type is registered already or its name is taken; -ENOMEM.
 */
int __pym_type_register(struct pym_type *type, struct module *owner)
{
	struct pym_type_state *st;
	int err;

	might_sleep();
	if (!type || !valid_type(type)) {
		report_invalid(type);
		return -EINVAL;
	}
	if (type->state) {
		pr_err("type_register: type %s is registered already\n",
		       type->name);
		return -EEXIST;
	}
	/* Before the new type takes a heap name an orphan may hold. */
	mutex_lock(&pym_types_lock);
	reap_orphans();
	mutex_unlock(&pym_types_lock);
	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	err = state_init(st, type);
	if (err)
		goto out_free;
	st->client = type;
	st->owner = owner;
	mutex_lock(&pym_types_lock);
	if (find_type(type->name)) {
		mutex_unlock(&pym_types_lock);
		pr_err("type_register: name %s is taken\n", type->name);
		err = -EEXIST;
		goto out_free;
	}
	list_add_tail(&st->node, &pym_types);
	type->state = st;
	mutex_unlock(&pym_types_lock);
	return 0;

out_free:
	state_free(st);
	return err;
}
EXPORT_SYMBOL_GPL(__pym_type_register);

/*
 * Returns how many objects still hold memory (live, or dead and awaiting
 * pym_obj_free()); 0 when the type is gone.
 */
static u64 unregister_locked(struct pym_type_state *st)
{
	struct type_counts tc;
	u64 live;

	lockdep_assert_held(&pym_types_lock);
	drain(st, true);
	sum_counts(st, &tc);
	live = tc.allocated - tc.freed;
	if (live)
		return live;
	list_del(&st->node);
	if (st->client)
		st->client->state = NULL;
	state_free(st);
	return 0;
}

/**
 * pym_type_unregister() - unregister a type, releasing its free lists
 * @type: a type registered with pym_type_register()
 *
 * Context: process context; sleeps.
 * Return: 0; -EINVAL when @type is not registered; -EBUSY, after a report
 * naming the type and its live objects, while objects of it are alive or
 * await pym_obj_free() (the type then stays registered and usable).
 */
int pym_type_unregister(struct pym_type *type)
{
	u64 live;

	might_sleep();
	if (!type || !type->state) {
		pr_err("type_unregister: type %s is not registered\n",
		       type && type->name ? type->name : "(null)");
		return -EINVAL;
	}
	pym_trash_flush();
	mutex_lock(&pym_types_lock);
	live = unregister_locked(type->state);
	mutex_unlock(&pym_types_lock);
	if (live) {
		pr_err("type %s: cannot unregister, %llu objects still live\n",
		       type->name, live);
		return -EBUSY;
	}
	return 0;
}
EXPORT_SYMBOL_GPL(pym_type_unregister);

/*
 * The common case, a fixed-size object with nothing in front of it: no
 * item count, no collector, list 0.
 */
static __always_inline struct pym_object *obj_new_plain(struct pym_type_state *st,
							gfp_t gfp)
{
	struct pym_type_pcpu *pc;
	struct pym_object *obj;
	unsigned long flags;

	pc = list_lock(st, &flags);
	obj = pym_freelist_pop(&pc->c, 0);
	list_unlock(pc, flags);
	if (!obj) {
		/* Inlined into pym_obj_new(): its caller is the object's. */
		obj = pym_heap_alloc_caller(st->heap, st->type.size,
					    gfp & ~__GFP_ZERO, _RET_IP_);
		if (unlikely(!obj))
			return NULL;
	}
	memset(obj, 0, st->type.size);
	refcount_set(&obj->refcnt, 1);
	obj->type = &st->type;
	this_cpu_inc(st->pcpu->c.allocated);
	return obj;
}

/*
 * Any object of n items: from the free list of its count, or a new block;
 * an item count or a collector's header in front of it.
 */
static noinline struct pym_object *obj_new(struct pym_type_state *st,
					   size_t n, gfp_t gfp,
					   unsigned long caller)
{
	struct pym_type_pcpu *pc;
	struct pym_object *obj;
	size_t bytes = st->prefix + st->type.size;
	unsigned long flags;
	char *mem = NULL;

	if (n < PYM_FREELIST_LENGTHS) {
		pc = list_lock(st, &flags);
		mem = pym_freelist_pop(&pc->c, n);
		list_unlock(pc, flags);
	}
	if (!mem) {
		if (unlikely(check_add_overflow(bytes, n * st->type.itemsize,
						&bytes)))
			return NULL;
		mem = pym_heap_alloc_caller(st->heap, bytes, gfp & ~__GFP_ZERO,
					    caller);
		if (unlikely(!mem))
			return NULL;
	}
	obj = (struct pym_object *)(mem + st->prefix);
	if (st->type.itemsize)
		*(u64 *)mem = n;
	memset(obj, 0, st->type.size + n * st->type.itemsize);
	refcount_set(&obj->refcnt, 1);
	obj->type = &st->type;
	this_cpu_inc(st->pcpu->c.allocated);
	if (st->gc_header)
		pym_collector_track(obj);
	return obj;
}

static void report_unregistered(const char *fn, const struct pym_type *type)
{
	pr_err_once("%s: type %s is not registered\n", fn,
		    type && type->name ? type->name : "(null)");
}

/**
 * pym_obj_new() - a new object of a registered type
 * @type: the type
 * @gfp: allocation flags, as for pym_alloc()
 *
 * The object is zeroed, has one reference and ->type set. It comes from
 * this CPU's free list of the type when one is listed there. An object of
 * a container type is tracked by the cycle collector from here on. For a
 * variable-size type, this is pym_obj_new_var() of 0 items.
 *
 * Context: any, as far as @gfp allows.
 * Return: the object, or NULL (unregistered type, reported, or no memory).
 */
struct pym_object *pym_obj_new(struct pym_type *type, gfp_t gfp)
{
	struct pym_type_state *st = type ? type->state : NULL;

	if (unlikely(!st)) {
		report_unregistered("obj_new", type);
		return NULL;
	}
	if (likely(!st->prefix))
		return obj_new_plain(st, gfp);
	return obj_new(st, 0, gfp, _RET_IP_);
}
EXPORT_SYMBOL_GPL(pym_obj_new);

/**
 * pym_obj_new_var() - a new object of a variable-size type
 * @type: a registered type with an itemsize
 * @nitems: items the object holds after its fixed part
 * @gfp: allocation flags, as for pym_alloc()
 *
 * The object has @type's size plus @nitems times its itemsize bytes, all
 * zeroed, one reference and ->type set. Objects of fewer than
 * PYM_FREELIST_LENGTHS items come back from free lists kept per item
 * count, as CPython keeps its tuples.
 *
 * Context: any, as far as @gfp allows.
 * Return: the object; NULL when the size overflows, without memory, and,
 * reported, for an unregistered or fixed-size type.
 */
struct pym_object *pym_obj_new_var(struct pym_type *type, size_t nitems,
				   gfp_t gfp)
{
	struct pym_type_state *st = type ? type->state : NULL;
	size_t bytes;

	if (unlikely(!st)) {
		report_unregistered("obj_new_var", type);
		return NULL;
	}
	if (unlikely(!st->type.itemsize)) {
		pr_err_once("obj_new_var: type %s has no itemsize: use pym_obj_new()\n",
			    st->type.name);
		return NULL;
	}
	if (unlikely(check_mul_overflow(nitems, st->type.itemsize, &bytes) ||
		     bytes > KMALLOC_MAX_SIZE))
		return NULL;
	return obj_new(st, nitems, gfp, _RET_IP_);
}
EXPORT_SYMBOL_GPL(pym_obj_new_var);

/**
 * pym_obj_get() - take a reference
 * @obj: a live object
 *
 * refcount_t semantics: taking a reference on a dead object (refcount 0)
 * warns and does not revive it; overflow saturates and warns.
 *
 * Context: any.
 * Return: @obj.
 */
struct pym_object *pym_obj_get(struct pym_object *obj)
{
	refcount_inc(&obj->refcnt);
	return obj;
}
EXPORT_SYMBOL_GPL(pym_obj_get);

/**
 * pym_obj_get_unless_zero() - take a reference unless the object is dying
 * @obj: an object, possibly found without holding a reference (under RCU)
 *
 * Context: any.
 * Return: true when a reference was taken.
 */
bool pym_obj_get_unless_zero(struct pym_object *obj)
{
	return refcount_inc_not_zero(&obj->refcnt);
}
EXPORT_SYMBOL_GPL(pym_obj_get_unless_zero);

/**
 * pym_obj_refcount() - current reference count, for diagnostics
 * @obj: the object
 *
 * Context: any.
 * Return: the count; it may change as soon as it is read.
 */
unsigned int pym_obj_refcount(const struct pym_object *obj)
{
	return refcount_read(&obj->refcnt);
}
EXPORT_SYMBOL_GPL(pym_obj_refcount);

/**
 * pym_obj_is() - is an object of a given type?
 * @obj: the object
 * @type: the type as registered by its owner
 *
 * Context: any.
 * Return: true when @obj was made by pym_obj_new(@type).
 */
bool pym_obj_is(const struct pym_object *obj, const struct pym_type *type)
{
	return type->state && obj->type == &type->state->type;
}
EXPORT_SYMBOL_GPL(pym_obj_is);

/* Keep mem, the memory of a dead object of n items, or give it back. */
static __always_inline void obj_keep(struct pym_type_state *st, void *mem,
				     unsigned int n)
{
	struct pym_type_pcpu *pc;
	unsigned long flags;
	bool kept;

	pc = list_lock(st, &flags);
	kept = pym_freelist_push(&pc->c, mem, n);
	list_unlock(pc, flags);
	if (!kept)
		pym_free(mem);
}

/* An object with an item count or a collector's header in front. */
static noinline void obj_recycle_prefixed(struct pym_type_state *st,
					  struct pym_object *obj)
{
	char *mem = (char *)obj - st->prefix;
	unsigned int n = 0;

	if (st->type.itemsize)
		n = min_t(u64, *(u64 *)mem, PYM_FREELIST_LENGTHS);
	obj_keep(st, mem, n);
}

/*
 * The memory of a dead object: to the free list of its item count (0 for
 * a fixed-size type), or back to its heap.
 */
static void obj_recycle(struct pym_type_state *st, struct pym_object *obj)
{
	if (unlikely(st->prefix))
		obj_recycle_prefixed(st, obj);
	else
		obj_keep(st, obj, 0);
}

/**
 * pym_obj_free() - give back the memory of a dead object
 * @obj: an object of a PYM_TYPE_DEFERRED_FREE type whose release() ran;
 *       release() must have left ->type intact
 *
 * Context: any.
 */
void pym_obj_free(struct pym_object *obj)
{
	if (unlikely(refcount_read(&obj->refcnt))) {
		pr_err_once("obj_free of a live %s object refused\n",
			    obj->type->name);
		return;
	}
	obj_recycle(type_state(obj), obj);
}
EXPORT_SYMBOL_GPL(pym_obj_free);

/* Run a dead object's release() and recycle its memory. */
static __always_inline void obj_release(struct pym_object *obj)
{
	struct pym_type_state *st = type_state(obj);
	void (*release)(struct pym_object *obj);

	this_cpu_inc(st->pcpu->c.released);
	trace_pym_obj_release(obj, st->type.name, st->type.size);
	release = READ_ONCE(st->type.release);
	if (release)
		release(obj);
	if (!(st->type.flags & PYM_TYPE_DEFERRED_FREE))
		obj_recycle(st, obj);
}

void pym_obj_release(struct pym_object *obj)
{
	obj_release(obj);
}

/**
 * pym_obj_put() - drop a reference; the last one releases the object
 * @obj: the object
 *
 * At zero, the type's release() runs here, exactly once, then the memory
 * goes to the type's free list or back to the allocator (unless the type
 * is PYM_TYPE_DEFERRED_FREE). Dropping more references than were taken
 * warns (refcount_t underflow) and never releases twice.
 *
 * Context: any. release() runs in the caller's context, except for a
 * container object put with less than half of the stack left (a long
 * chain of releases): its release() runs soon after from a work item.
 */
void pym_obj_put(struct pym_object *obj)
{
	enum pym_trash_depth depth;

	if (!refcount_dec_and_test(&obj->refcnt))
		return;
	if (likely(!type_state(obj)->gc_header)) {
		obj_release(obj);
		return;
	}
	pym_collector_untrack(obj);
	depth = pym_trash_enter(obj);
	if (depth == PYM_TRASH_DEPOSITED)
		return;
	obj_release(obj);
	if (depth == PYM_TRASH_IRQ_NESTED)
		pym_trash_leave();
}
EXPORT_SYMBOL_GPL(pym_obj_put);

/*
 * A module is gone: types it registered and did not unregister stay, as
 * orphans, while objects of them live; their release() is not called
 * again, since its code is gone.
 */
void pym_types_module_gone(struct module *mod)
{
	struct pym_type_state *st, *tmp;
	u64 live;

	/* Deferred releases run the module's code while it is still there. */
	pym_trash_flush();
	/* No collection runs the module's traverse() or clear() past here. */
	pym_gc_lock();
	mutex_lock(&pym_types_lock);
	list_for_each_entry_safe(st, tmp, &pym_types, node) {
		if (st->owner != mod || st->orphaned)
			continue;
		live = unregister_locked(st);
		if (!live) {
			pr_err("module %s unloaded without unregistering type; released it\n",
			       mod->name);
			continue;
		}
		WRITE_ONCE(st->type.release, NULL);
		WRITE_ONCE(st->type.traverse, NULL);
		WRITE_ONCE(st->type.clear, NULL);
		st->client = NULL;
		st->orphaned = true;
		pr_err("module %s unloaded with %llu live objects of type %s; they stay valid, their release() will not run\n",
		       mod->name, live, st->type.name);
	}
	mutex_unlock(&pym_types_lock);
	pym_gc_unlock();
}
EXPORT_SYMBOL_IF_KUNIT(pym_types_module_gone);

static int pym_module_going(struct notifier_block *nb, unsigned long action,
			    void *data)
{
	if (action == MODULE_STATE_GOING)
		pym_types_module_gone(data);
	return NOTIFY_DONE;
}

static struct notifier_block pym_module_nb = {
	.notifier_call = pym_module_going,
};

/* " items:count" for every item count with dead objects listed, or " -". */
static void print_lengths(struct seq_file *m, struct pym_type_state *st)
{
	u64 len[PYM_FREELIST_LENGTHS];
	const char *sep = " ";
	unsigned int n;

	pym_type_lengths(st, len);
	for (n = 0; n < PYM_FREELIST_LENGTHS; n++) {
		if (!len[n])
			continue;
		seq_printf(m, "%s%u:%llu", sep, n, len[n]);
		sep = ",";
	}
	if (*sep == ' ')
		seq_puts(m, " -");
}

void pym_types_print(struct seq_file *m)
{
	struct pym_type_state *st;
	struct type_counts tc;

	seq_printf(m, "%-31s %8s %6s %10s %12s %12s %9s %9s %10s %10s %8s %8s %s\n",
		   "name", "size", "class", "live", "allocated", "released",
		   "freelist", "bound", "hits", "tracked", "itemsize",
		   "dropped", "freelist_by_items");
	mutex_lock(&pym_types_lock);
	list_for_each_entry(st, &pym_types, node) {
		size_t block = st->prefix + st->type.size;
		u64 live;
		char cls[8] = "kmalloc";

		sum_counts(st, &tc);
		live = tc.allocated - tc.released;
		if (block <= PYM_SMALL_MAX)
			snprintf(cls, sizeof(cls), "%u", pym_size_class(block));
		/* A container's live objects are exactly its tracked ones. */
		seq_printf(m, "%-31s %8zu %6s %10llu %12llu %12llu %9llu %9llu %10llu %10llu %8zu %8llu",
			   st->type.name, st->type.size, cls, live,
			   tc.allocated, tc.released, tc.listed, tc.cap,
			   tc.hits, st->gc_header ? live : 0,
			   st->type.itemsize, tc.dropped);
		if (st->type.itemsize)
			print_lengths(m, st);
		else
			seq_puts(m, " -");
		seq_printf(m, "%s\n", st->orphaned ? " orphaned" : "");
	}
	mutex_unlock(&pym_types_lock);
}

/* Bytes of the dead objects on the types' free lists. */
u64 pym_types_reclaimable(void)
{
	struct pym_type_state *st;
	struct type_counts tc;
	u64 bytes = 0;

	if (!mutex_trylock(&pym_types_lock))
		return 0;
	list_for_each_entry(st, &pym_types, node) {
		sum_counts(st, &tc);
		bytes += tc.listed * st->type.size;
	}
	mutex_unlock(&pym_types_lock);
	return bytes;
}

/* Every dead object on the free lists back to its heap, for reclaim. */
void pym_types_drain(void)
{
	/* Reclaim may run under our own registration path: never wait. */
	if (!mutex_trylock(&pym_types_lock))
		return;
	drain(NULL, false);
	mutex_unlock(&pym_types_lock);
}
EXPORT_SYMBOL_IF_KUNIT(pym_types_drain);

int pym_types_init(void)
{
	BUILD_BUG_ON(offsetof(struct pym_object, type) !=
		     PYM_OBJ_LINK_WORD * sizeof(void *));
	/* Free blocks carry pymalloc's mark or link in their first word. */
	BUILD_BUG_ON(offsetof(struct pym_object, refcnt) < sizeof(void *));
	return register_module_notifier(&pym_module_nb);
}

void pym_types_exit(void)
{
	struct pym_type_state *st, *tmp;

	unregister_module_notifier(&pym_module_nb);
	pym_trash_flush();
	mutex_lock(&pym_types_lock);
	list_for_each_entry_safe(st, tmp, &pym_types, node) {
		u64 live = unregister_locked(st);

		if (live)
			pr_err("unloading with %llu live objects of type %s\n",
			       live, st->type.name);
	}
	mutex_unlock(&pym_types_lock);
}
