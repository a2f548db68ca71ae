// SPDX-License-Identifier: GPL-2.0
/*
 * heap.c - heaps: creation and destruction, arena supply, figures, and
 * reclaim. It owns the list of heaps and every walk of it.
 *
 * A heap is a struct pym_core, its lock (core.lock, an irq-safe spinlock)
 * and, unless created PYM_HEAP_NOCACHE, per-CPU magazines with a depot per
 * class (pcpu.c, magazine.h). Arenas come from the page allocator outside
 * every lock, so GFP_KERNEL callers may sleep and atomic callers never
 * wait for reclaim; a heap destroyed with live blocks lingers, unlisted,
 * until the last of them is freed.
 *
 * Lock order, outermost first; a lock is only taken under those above it.
 *
 *   pym_gc_mutex       mutex (collect.c): pym_gc_lock(), held by clients
 *                      changing references in containers and by every
 *                      collection, and by a module's unload while its
 *                      types lose their traverse() and clear()
 *   pym_types_lock     mutex (object.c): type registration, unregistration,
 *                      the types file; reclaim only trylocks it
 *   pym_heaps_lock     mutex: heap creation and destruction; never taken in
 *                      reclaim or by walkers, which use RCU
 *   cpu_hotplug_lock   read side, only to drain the offline CPUs of a
 *                      destroyed heap (pym_pcpu_drain()) or an unregistered
 *                      type; never in reclaim, since CPU hotplug allocates
 *                      memory under it
 *   type lists         owned, not locked, by their CPU with interrupts off;
 *                      on PREEMPT_RT a spinlock_t per type and CPU
 *                      (object.c); nothing is taken under them
 *   magazines          owned, not locked, by their CPU with interrupts off
 *                      (the fast pop commits on its CPU, or retries); on
 *                      PREEMPT_RT a spinlock_t per heap and CPU (pcpu.h)
 *   depot lock         spinlock_t per heap and class (magazine.h)
 *   core.lock          spinlock_t per heap, irq-safe: the core; nothing is
 *                      taken under it, no memory allocated or freed
 *   map_lock           spinlock, irq-safe (arenamap.c): arena and large
 *                      region map updates, taken outside every heap lock;
 *                      nothing is taken under it
 *   gc_lists_lock      spinlock, irq-safe (collect.c): the collector's
 *                      lists; taken alone, nothing taken under it
 *   samples_lock       raw spinlock, irq-safe (callers.c): the sampled
 *                      blocks; taken under no pymalloc lock, nothing taken
 *                      under it
 *   RCU batch lock     spinlock_t per CPU, irq-safe (rcu.c): that CPU's
 *                      pym_free_rcu() batch; taken under no pymalloc lock,
 *                      only the page allocator's and workqueue's under it
 *
 * Contexts: everything from "magazines" down may be taken in any context
 * an allocation is allowed in (hardirq included, but on PREEMPT_RT, where
 * as for kmalloc no allocation or free may run with preemption or
 * interrupts off or under a raw_spinlock_t). Reclaim (the shrinker) runs
 * pym_types_drain() and pym_heaps_trim(): a trylock of pym_types_lock, RCU
 * walks, the magazines (an IPI per CPU holding blocks, or on RT their
 * locks), depot and core locks, and nothing that waits.
 */
#define pr_fmt(fmt) "pymalloc: " fmt

#include <linux/ctype.h>
#include <linux/fault-inject.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>

#include "compat.h"
#include "internal.h"
#include "pym_trace.h"
#include "kasan.h"

struct pym_heap *pym_default_heap;
EXPORT_SYMBOL_IF_KUNIT(pym_default_heap);
/* Every heap: walked under RCU, changed under pym_heaps_lock. */
static LIST_HEAD(pym_heaps);
/* Serialises heap creation and destruction; see "Lock order" above. */
static DEFINE_MUTEX(pym_heaps_lock);

/*
 * Arena descriptors, from a cache of their own: at 6,320 bytes SLUB puts
 * five in a 32 KiB slab (pym_desc_cost()), where kmalloc-8k would hold
 * four.
 */
static struct kmem_cache *pym_karena_cache;
/* Heaps destroyed with live blocks, found at unload (pym_karena_leaked()). */
static LIST_HEAD(pym_leaked_heaps);
static_assert(sizeof(struct pym_karena) <= PYM_DESC_SLAB_BYTES / 5,
	      "five arena descriptors to a slab");

#ifdef CONFIG_FAULT_INJECTION
/* debugfs pymalloc/fail_arena: make arena allocations fail on purpose. */
struct fault_attr pym_fail_arena = FAULT_ATTR_INITIALIZER;
EXPORT_SYMBOL_IF_KUNIT(pym_fail_arena);

static bool arena_should_fail(void)
{
	return should_fail(&pym_fail_arena, PYM_ARENA_SIZE);
}
#else
static bool arena_should_fail(void)
{
	return false;
}
#endif

/* core.c found a pool's free-list link overwritten, and rebuilt the list. */
void pym_core_report_link(struct pym_core *core, struct pym_pool *pool,
			  const void *b, unsigned long link)
{
	pr_err_ratelimited("heap %s: free block %p of class %u (%u bytes) was written after it was freed: its free-list link (%#lx) points nowhere it may; the pool's list was rebuilt from its bitmap\n",
			   pym_core_heap(core)->name, b, pool->cls,
			   pym_class_size(pool->cls), link);
}

static void arena_free_rcu(struct rcu_head *rcu)
{
	struct pym_karena *ka = container_of(rcu, struct pym_karena, rcu);

	pym_kasan_unpoison(ka->a.base, PYM_ARENA_SIZE);
	free_pages((unsigned long)ka->a.base, PYM_ARENA_ORDER);
	pym_karena_free(ka);
}

/*
 * Return arenas the core gave up, after dropping every lock: out of the
 * map at once, back to the page allocator after a grace period. A free
 * that found an arena before it left the map may still read it, and not
 * only its descriptor: a stale pointer's free reads the block's first
 * word before the bit that says the block is not allocated.
 */
void pym_heap_release_arenas(struct pym_arena *a)
{
	while (a) {
		struct pym_karena *ka = container_of(a, struct pym_karena, a);
		struct pym_arena *next = a->release_next;

		trace_pym_arena_free(ka->heap, a->id, a->nid);
		pym_arena_unmap(a->base);
		call_rcu(&ka->rcu, arena_free_rcu);
		a = next;
	}
}

/*
 * A descriptor for a new arena of heap. pym_heap_grow() publishes it in
 * the arenas' map before the core fills it (pym_core_add_arena()), and
 * frees of addresses in the arena may read it from then on: it comes
 * with no core, no pool's magazine and no bit set, as the fast free and
 * do_free() need to refuse them.
 */
struct pym_karena *pym_karena_new(struct pym_heap *heap, gfp_t gfp, int nid)
{
	struct pym_karena *ka;

	ka = kmem_cache_alloc_node(pym_karena_cache, gfp | __GFP_ZERO, nid);
	if (ka)
		ka->heap = heap;
	return ka;
}
EXPORT_SYMBOL_IF_KUNIT(pym_karena_new);

void pym_karena_free(struct pym_karena *ka)
{
	kmem_cache_free(pym_karena_cache, ka);
}
EXPORT_SYMBOL_IF_KUNIT(pym_karena_free);

int pym_karenas_init(void)
{
	pym_karena_cache = kmem_cache_create("pym_arena",
					     sizeof(struct pym_karena), 0,
					     SLAB_NO_MERGE, NULL);
	return pym_karena_cache ? 0 : -ENOMEM;
}

/*
 * An arena still in the map at unload (pym_arena_map_exit()): its heap
 * was destroyed with live blocks, which nothing can free any more. Its
 * pages stay, for whoever still points into them; its descriptor goes,
 * and its heap once the last such arena has (pym_karenas_exit()):
 * nothing reads them once the module is gone.
 */
void pym_karena_leaked(struct pym_arena *a)
{
	struct pym_karena *ka = container_of(a, struct pym_karena, a);
	struct pym_heap *heap = ka->heap;

	if (heap->dead) {
		heap->dead = false;
		list_add(&heap->node, &pym_leaked_heaps);
	}
	pym_karena_free(ka);
}

/* After the arenas' map, and every arena and heap with it. */
void pym_karenas_exit(void)
{
	struct pym_heap *heap, *next;

	list_for_each_entry_safe(heap, next, &pym_leaked_heaps, node) {
		kfree(heap->debug);
		kfree(heap);
	}
	INIT_LIST_HEAD(&pym_leaked_heaps);
	kmem_cache_destroy(pym_karena_cache);
}

/* Obtain one arena for heap, outside its lock; -ENOMEM is counted. */
int pym_heap_grow(struct pym_heap *heap, gfp_t gfp)
{
	gfp_t g = (gfp & ~__GFP_ZERO) | __GFP_NOWARN;
	int nid = numa_mem_id();
	struct pym_karena *ka;
	unsigned long flags;
	struct page *page;
	void *base;
	int err;

	if (arena_should_fail())
		goto fail;
	ka = pym_karena_new(heap, g, nid);
	if (!ka)
		goto fail;
	/* Order 6 is costly: fail fast rather than thrash, and count it. */
	page = alloc_pages_node(nid, g | __GFP_NORETRY, PYM_ARENA_ORDER);
	if (!page)
		goto fail_desc;
	base = page_address(page);
	pym_kasan_unused(base, PYM_ARENA_SIZE);
	/* Published before it serves blocks, so every block can be found. */
	err = pym_arena_map(base, &ka->a, g);
	if (err)
		goto fail_pages;

	spin_lock_irqsave(&heap->core.lock, flags);
	pym_core_add_arena(&heap->core, &ka->a, base, page_to_nid(page));
	spin_unlock_irqrestore(&heap->core.lock, flags);
	trace_pym_arena_alloc(heap, ka->a.id, ka->a.nid);
	return 0;

fail_pages:
	__free_pages(page, PYM_ARENA_ORDER);
fail_desc:
	pym_karena_free(ka);
fail:
	spin_lock_irqsave(&heap->core.lock, flags);
	heap->core.cnt[PYM_STAT_ARENA_FAILURES]++;
	spin_unlock_irqrestore(&heap->core.lock, flags);
	return -ENOMEM;
}

/* The last block of a destroyed heap was freed; under an RCU reader. */
void pym_heap_drained(struct pym_heap *heap)
{
	pr_info("destroyed heap %s: last block freed, memory returned\n",
		heap->name);
	kfree(heap->debug);
	kfree_rcu(heap, rcu);
}

/*
 * Blocks cached in magazines and depots are free for all figures shown.
 * The core's figures are one snapshot under its lock; the magazines
 * change without it, so a busy heap's figures are approximate but
 * possible (pym_core_stats_cached()), a quiet heap's exact.
 */
void pym_heap_collect(struct pym_heap *heap, struct pym_core_stats *st)
{
	u64 cached[PYM_NR_CLASSES];
	unsigned long flags;

	spin_lock_irqsave(&heap->core.lock, flags);
	pym_core_collect(&heap->core, st);
	spin_unlock_irqrestore(&heap->core.lock, flags);
	pym_pcpu_count(heap, cached);
	pym_core_stats_cached(st, cached);
}
EXPORT_SYMBOL_IF_KUNIT(pym_heap_collect);

/**
 * pym_heap_stats() - figures of a heap
 * @heap: the heap, or NULL for the default heap
 * @st: filled in
 *
 * The figures are one consistent snapshot taken under the heap lock; the
 * pools are walked, so this costs O(arenas) and belongs off hot paths.
 *
 * Context: any.
 * Return: 0, or -EINVAL when @st is NULL.
 */
int pym_heap_stats(struct pym_heap *heap, struct pym_stats *st)
{
	struct pym_core_stats *cs;

	if (!st)
		return -EINVAL;
	cs = kmalloc(sizeof(*cs), GFP_ATOMIC | __GFP_NOWARN);
	if (!cs)
		return -ENOMEM;
	pym_heap_collect(heap ?: pym_default_heap, cs);
	memcpy(st->v, cs->v, sizeof(st->v));
	kfree(cs);
	return 0;
}
EXPORT_SYMBOL_GPL(pym_heap_stats);

static __printf(2, 3) void print_log(struct pym_out *out, const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	pr_err("%pV", &vaf);
	va_end(args);
}

/*
 * A second or so went by for heap's kept-arena policy (pym_core_age()):
 * busy, the arenas it keeps follow its recent peak down; with forget
 * (idle, or asked to shrink), it keeps keep_empty_arenas and no more.
 */
void pym_heap_age(struct pym_heap *heap, bool forget)
{
	struct pym_arena *release = NULL;
	unsigned long flags;

	spin_lock_irqsave(&heap->core.lock, flags);
	pym_core_age(&heap->core, forget, &release);
	spin_unlock_irqrestore(&heap->core.lock, flags);
	pym_heap_release_arenas(release);
}
EXPORT_SYMBOL_IF_KUNIT(pym_heap_age);

/**
 * pym_heap_shrink() - give a heap's free memory back, like kmem_cache_shrink()
 * @heap: the heap, or NULL for the default heap
 *
 * Every CPU's cached blocks of @heap and its depots go back to its pools;
 * an arena that leaves wholly empty goes back to the page allocator unless
 * it is one of the keep_empty_arenas the heap keeps. So a heap whose
 * blocks were all freed holds at most that many arenas when this returns.
 * A pinned heap keeps its arenas; a debug heap keeps its quarantine.
 *
 * Context: process context; it waits for the other CPUs (an IPI each that
 * caches blocks of @heap), and for the grace period after which released
 * arenas' pages are back with the page allocator (rcu_barrier()).
 */
void pym_heap_shrink(struct pym_heap *heap)
{
	struct pym_pcpu __percpu *pcpu;

	might_sleep();
	heap = heap ?: pym_default_heap;
	pcpu = READ_ONCE(heap->pcpu);
	if (pcpu)
		pym_pcpu_drain(heap, pcpu, false);
	pym_heap_age(heap, true);
	rcu_barrier();
}
EXPORT_SYMBOL_GPL(pym_heap_shrink);

/**
 * pym_heap_check() - verify every invariant of a heap
 * @heap: the heap, or NULL for the default heap
 *
 * Walks all arenas, pools, free lists and bitmaps under the heap lock and
 * logs each violation found. Meant for tests and debugging: O(memory).
 *
 * Context: any; keeps interrupts off for the length of the walk.
 * Return: 0 when consistent, -EUCLEAN after reporting violations.
 */
int pym_heap_check(struct pym_heap *heap)
{
	struct pym_out out = { .print = print_log };
	unsigned long flags;
	unsigned int n;

	heap = heap ?: pym_default_heap;
	spin_lock_irqsave(&heap->core.lock, flags);
	n = pym_core_check(&heap->core, &out);
	spin_unlock_irqrestore(&heap->core.lock, flags);
	if (heap->debug)
		n += pym_debug_check(heap, &out);
	if (n)
		pr_err("heap %s: %u violations\n", heap->name, n);
	return n ? -EUCLEAN : 0;
}
EXPORT_SYMBOL_GPL(pym_heap_check);

/*
 * The one rule for heap and type names: 1..31 characters, ASCII letters,
 * digits and "_-.:", not starting with '.'. A name is a debugfs file
 * name and a word in reports, so nothing else (no '/', no space, no byte
 * above 0x7f, which the kernel's isalnum() would take as Latin-1).
 */
bool pym_valid_name(const char *name)
{
	size_t i, len = name ? strnlen(name, PYM_NAME_MAX) : 0;

	if (!len || len == PYM_NAME_MAX || name[0] == '.')
		return false;
	for (i = 0; i < len; i++)
		if (!isascii(name[i]) ||
		    (!isalnum(name[i]) && !strchr("_-.:", name[i])))
			return false;
	return true;
}

/* pymalloc's own debugfs files, and the names of types' own heaps. */
/* The names of pymalloc's own debugfs entries, next to the heaps'. */
static bool reserved_name(const char *name)
{
	static const char *const own[] = {
		"types", "fail_arena", "gc", "rcu", "sample_interval",
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(own); i++)
		if (!strcmp(name, own[i]))
			return true;
	return !strncmp(name, PYM_TYPE_HEAP_PREFIX,
			strlen(PYM_TYPE_HEAP_PREFIX));
}

static struct pym_heap *find_heap(const char *name)
{
	struct pym_heap *heap;

	list_for_each_entry(heap, &pym_heaps, node)
		if (!strcmp(heap->name, name))
			return heap;
	return NULL;
}

static struct pym_heap *heap_new(const char *name, unsigned int flags)
{
	struct pym_heap *heap = kzalloc(sizeof(*heap), GFP_KERNEL);

	if (!heap)
		return NULL;
	if (flags & PYM_HEAP_DEBUG) {
		if (pym_debug_create(heap)) {
			kfree(heap);
			return NULL;
		}
	} else if (!(flags & PYM_HEAP_NOCACHE) && pym_pcpu_create(heap)) {
		kfree(heap);
		return NULL;
	}
	heap->flags = flags;
	spin_lock_init(&heap->core.lock);
	/* A pinned heap keeps every empty arena, and is never trimmed. */
	pym_core_init(&heap->core,
		      flags & PYM_HEAP_PINNED ? UINT_MAX : pym_keep_empty_arenas,
		      pym_desc_cost(sizeof(struct pym_karena)));
	/*
	 * Kept arenas follow the workload where something ages them: the
	 * magazines' idle work, every second (pym_heap_age()).
	 */
	heap->core.keep_adaptive = heap->pcpu && !(flags & PYM_HEAP_PINNED);
	/*
	 * What the fast free reads, in every pool: the magazine of the
	 * pool's class; under init_on_free nothing, so that the wipe
	 * (do_free()) costs it no test.
	 */
	if (heap->pcpu && !want_init_on_free())
		heap->core.cache = heap->pcpu->mags;
	heap->core.cache_stride = sizeof(struct pym_mag);
	heap->core.secret = get_random_long();
	strscpy(heap->name, name, sizeof(heap->name));
	return heap;
}

static struct pym_heap *heap_create(const char *name, unsigned int flags)
{
	struct pym_heap *heap;

	heap = heap_new(name, flags);
	if (!heap)
		return ERR_PTR(-ENOMEM);
	mutex_lock(&pym_heaps_lock);
	if (find_heap(name)) {
		mutex_unlock(&pym_heaps_lock);
		pym_pcpu_destroy(heap, heap->pcpu);
		kfree(heap->debug);
		kfree(heap);
		return ERR_PTR(-EEXIST);
	}
	list_add_tail_rcu(&heap->node, &pym_heaps);
	mutex_unlock(&pym_heaps_lock);
	pym_debugfs_add_heap(heap);
	return heap;
}

/**
 * pym_heap_create() - create an isolated heap
 * @name: unique name of 1..31 characters from [A-Za-z0-9_.:-], not starting
 *        with '.'; it names the heap's directory in debugfs. "types",
 *        "fail_arena" and names starting with "type-" are pymalloc's own
 * @flags: 0, or a combination of PYM_HEAP_NOCACHE for a heap without
 *         per-CPU magazines (every call takes the heap lock; the core's
 *         state is exact at all times, which tests and debugging want) and
 *         PYM_HEAP_PINNED for a heap that keeps its arenas until it is
 *         destroyed, against reclaim too, and never serves a small block
 *         from kmalloc: memory that held its blocks serves nothing else
 *         while it lives; and PYM_HEAP_DEBUG for a debug heap, whose
 *         blocks carry guards, fills, a serial number and their stacks,
 *         checked at free and by its "check" file, and wait in a
 *         quarantine before reuse (Documentation/pymalloc.rst)
 *
 * A heap has arenas, statistics and a debugfs directory of its own.
 * Blocks from it are freed with pym_free() like any other.
 *
 * Context: process context; sleeps.
 * Return: the heap, or ERR_PTR(-EINVAL) for a bad name or flags,
 * ERR_PTR(-EEXIST) when the name is taken, ERR_PTR(-ENOMEM).
 */
struct pym_heap *pym_heap_create(const char *name, unsigned int flags)
{
	might_sleep();
	if (flags & ~(PYM_HEAP_NOCACHE | PYM_HEAP_PINNED | PYM_HEAP_DEBUG)) {
		pr_err("heap_create: unknown flags %#x\n", flags);
		return ERR_PTR(-EINVAL);
	}
	if (!pym_valid_name(name)) {
		pr_err("heap_create: invalid name \"%*pE\": 1..%d characters of [A-Za-z0-9_.:-], not starting with '.'\n",
		       name ? (int)strnlen(name, PYM_NAME_MAX) : 0, name ?: "",
		       PYM_NAME_MAX - 1);
		return ERR_PTR(-EINVAL);
	}
	if (reserved_name(name)) {
		pr_err("heap_create: name \"%s\" is reserved (\"types\", \"fail_arena\", \"%s...\")\n",
		       name, PYM_TYPE_HEAP_PREFIX);
		return ERR_PTR(-EINVAL);
	}
	return heap_create(name, flags);
}
EXPORT_SYMBOL_GPL(pym_heap_create);

/*
 * A type's own heap, "type-<name>"; "type-<name>-N" while an orphaned type
 * of that name (object.c) still holds the first. Process context.
 */
struct pym_heap *pym_type_heap_create(const char *type_name, unsigned int flags)
{
	char name[PYM_HEAP_NAME_MAX];
	struct pym_heap *heap;
	unsigned int n;

	snprintf(name, sizeof(name), PYM_TYPE_HEAP_PREFIX "%s", type_name);
	heap = heap_create(name, flags);
	for (n = 2; n < 100 && PTR_ERR_OR_ZERO(heap) == -EEXIST; n++) {
		snprintf(name, sizeof(name), PYM_TYPE_HEAP_PREFIX "%s-%u",
			 type_name, n);
		heap = heap_create(name, flags);
	}
	return heap;
}

/*
 * Give back what a heap holds. Live blocks keep their arenas: the heap
 * lingers, unlisted, until the last of them is freed.
 */
static void heap_retire(struct pym_heap *heap)
{
	struct pym_pcpu __percpu *pcpu = heap->pcpu;
	struct pym_arena *release = NULL;
	struct pym_core_stats *st = NULL;
	unsigned long flags;
	unsigned int c;
	bool busy;

	if (pcpu) {
		/*
		 * Frees from now on go to the core. Wait for those that did
		 * not, and for walkers of the heap list, all RCU readers;
		 * only then is the idle work sure not to be armed again by
		 * a refill or overflow.
		 */
		WRITE_ONCE(heap->pcpu, NULL);
		spin_lock_irqsave(&heap->core.lock, flags);
		pym_core_set_cache(&heap->core, NULL);
		spin_unlock_irqrestore(&heap->core.lock, flags);
		synchronize_rcu();
		cancel_delayed_work_sync(&heap->idle_work);
		pym_pcpu_drain(heap, pcpu, true);
		pym_pcpu_destroy(heap, pcpu);
	}
	if (heap->debug)
		pym_debug_destroy(heap);
	spin_lock_irqsave(&heap->core.lock, flags);
	pym_core_trim(&heap->core, &release);
	busy = heap->core.cnt[PYM_STAT_ARENAS_CURRENT];
	if (busy) {
		heap->dead = true;
		heap->core.keep_empty = 0;
		heap->core.keep_adaptive = false;
	}
	spin_unlock_irqrestore(&heap->core.lock, flags);
	pym_heap_release_arenas(release);
	if (!busy) {
		kfree(heap->debug);
		kfree_rcu(heap, rcu);
		return;
	}

	st = kmalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return;
	pym_heap_collect(heap, st);
	pr_err("heap %s destroyed with %llu live blocks (%llu bytes); their %llu arenas stay until they are freed\n",
	       heap->name, st->v[PYM_STAT_BLOCKS_IN_USE], st->v[PYM_STAT_BYTES_IN_USE],
	       st->v[PYM_STAT_ARENAS_CURRENT]);
	for (c = 0; c < PYM_NR_CLASSES; c++)
		if (st->cls[c].blocks)
			pr_err("heap %s:   class %u (%u bytes): %llu live blocks\n",
			       heap->name, c, pym_class_size(c),
			       st->cls[c].blocks);
	kfree(st);
}

/**
 * pym_heap_destroy() - destroy a heap created by pym_heap_create()
 * @heap: the heap; NULL, error pointers and the default heap are refused
 *
 * Empty arenas go back to the page allocator at once. If blocks are still
 * allocated, their number per size class is reported and their memory is
 * kept, not freed under its users; it is returned as they are freed.
 *
 * Context: process context; sleeps.
 */
void pym_heap_destroy(struct pym_heap *heap)
{
	might_sleep();
	if (IS_ERR_OR_NULL(heap) || heap == pym_default_heap) {
		pr_err("heap_destroy: refusing to destroy %s\n",
		       heap ? "the default heap" : "a NULL heap");
		return;
	}
	mutex_lock(&pym_heaps_lock);
	list_del_rcu(&heap->node);
	mutex_unlock(&pym_heaps_lock);
	pym_debugfs_remove_heap(heap);
	heap_retire(heap);
}
EXPORT_SYMBOL_GPL(pym_heap_destroy);

/*
 * Call fn on every heap, under RCU, until it returns true; the heaps of
 * the list at the time, and perhaps some created or destroyed meanwhile.
 * Any context; fn must not sleep. Returns whether fn stopped the walk.
 */
bool pym_heaps_any(bool (*fn)(struct pym_heap *heap, void *arg), void *arg)
{
	struct pym_heap *heap;
	bool stop = false;

	rcu_read_lock();
	list_for_each_entry_rcu(heap, &pym_heaps, node) {
		stop = fn(heap, arg);
		if (stop)
			break;
	}
	rcu_read_unlock();
	return stop;
}

static bool add_reclaimable(struct pym_heap *heap, void *arg)
{
	u64 cached[PYM_NR_CLASSES], *bytes = arg;
	unsigned int c;

	if (heap->flags & PYM_HEAP_PINNED)
		return false;
	*bytes += (u64)READ_ONCE(heap->core.nkept) * PYM_ARENA_SIZE;
	pym_pcpu_count(heap, cached);
	for (c = 0; c < PYM_NR_CLASSES; c++)
		*bytes += cached[c] * pym_class_size(c);
	return false;
}

/*
 * Bytes reclaim may give back: the kept empty arenas, and the blocks
 * cached in magazines and depots, which pin arenas a drain may empty.
 */
u64 pym_heaps_reclaimable(void)
{
	u64 bytes = 0;

	pym_heaps_any(add_reclaimable, &bytes);
	return bytes;
}

struct trim_ctx {
	struct pym_arena *release;
	unsigned long arenas;
};

static bool trim_heap(struct pym_heap *heap, void *arg)
{
	struct trim_ctx *tc = arg;
	unsigned long flags;

	if (heap->flags & PYM_HEAP_PINNED)
		return false;
	spin_lock_irqsave(&heap->core.lock, flags);
	tc->arenas += pym_core_trim(&heap->core, &tc->release);
	spin_unlock_irqrestore(&heap->core.lock, flags);
	return false;
}

/*
 * Reclaim: every cached block back to its core, then every empty arena
 * back to the page allocator; returns the pages freed. It takes no
 * sleeping lock, holds no lock across the drain, and costs one round over
 * the CPUs whatever the number of heaps (pym_pcpu_drain_all()).
 */
unsigned long pym_heaps_trim(void)
{
	struct trim_ctx tc = { };

	pym_pcpu_drain_all();
	pym_heaps_any(trim_heap, &tc);
	pym_heap_release_arenas(tc.release);
	return tc.arenas << PYM_ARENA_ORDER;
}
EXPORT_SYMBOL_IF_KUNIT(pym_heaps_trim);

int pym_heaps_init(void)
{
	pym_default_heap = heap_new("default",
				    pym_debug_default ? PYM_HEAP_DEBUG : 0);
	if (!pym_default_heap)
		return -ENOMEM;
	list_add_rcu(&pym_default_heap->node, &pym_heaps);
	pym_debugfs_add_heap(pym_default_heap);
	return 0;
}

void pym_heaps_exit(void)
{
	struct pym_heap *heap, *tmp;

	mutex_lock(&pym_heaps_lock);
	list_for_each_entry_safe(heap, tmp, &pym_heaps, node) {
		if (heap != pym_default_heap)
			pr_err("heap %s was never destroyed by its creator\n",
			       heap->name);
		list_del_rcu(&heap->node);
		pym_debugfs_remove_heap(heap);
		heap_retire(heap);
	}
	mutex_unlock(&pym_heaps_lock);
	/*
	 * Heaps retired with live blocks keep their arenas' pages for good
	 * now; the rest are back once the grace periods end.
	 */
	rcu_barrier();
}
