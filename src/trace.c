// SPDX-License-Identifier: GPL-2.0
/*
 * trace.c - pymalloc's tracepoints (pym_trace.h), the switch of the
 * watched paths, and what the events find out for themselves. All of it
 * runs only while somebody watches: the fast paths pay one patched-out
 * jump (pym_observing) and nothing more.
 */
#include <linux/numa.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "internal.h"

#define CREATE_TRACE_POINTS
#include "pym_trace.h"

/* For modules that attach probes of their own, as for kmem's events. */
EXPORT_TRACEPOINT_SYMBOL_GPL(pym_alloc);
EXPORT_TRACEPOINT_SYMBOL_GPL(pym_free);
EXPORT_TRACEPOINT_SYMBOL_GPL(pym_arena_alloc);
EXPORT_TRACEPOINT_SYMBOL_GPL(pym_arena_free);
EXPORT_TRACEPOINT_SYMBOL_GPL(pym_obj_release);
EXPORT_TRACEPOINT_SYMBOL_GPL(pym_gc_collect);

DEFINE_STATIC_KEY_FALSE(pym_observing);

/* A probe was attached to pym_alloc or pym_free, or detached. */
int pym_trace_watch(void)
{
	static_branch_inc(&pym_observing);
	return 0;
}

void pym_trace_unwatch(void)
{
	static_branch_dec(&pym_observing);
}

/* The end of every allocation while watched (pym_observing). */
void pym_observe_alloc(struct pym_heap *heap, const void *p, size_t size,
		       gfp_t gfp, unsigned long caller)
{
	pym_callers_alloc(heap, p, size, caller);
	trace_pym_alloc(caller, p, heap, size, gfp);
}

/* The bytes p holds: its class's block, or kmalloc's for a large block. */
size_t pym_trace_block_bytes(struct pym_heap *heap, const void *p, size_t size)
{
	struct pym_arena *a;
	size_t bytes = 0;

	if (ZERO_OR_NULL_PTR(p))
		return 0;
	rcu_read_lock();
	a = pym_arena_lookup(p);
	if (a)
		bytes = pym_class_size(READ_ONCE(pym_pool_of(a, p)->cls));
	rcu_read_unlock();
	return a ? bytes : pym_large_size(p);
}

int pym_trace_node(const void *p)
{
	return ZERO_OR_NULL_PTR(p) ? NUMA_NO_NODE : page_to_nid(virt_to_page(p));
}

void pym_trace_name(const struct pym_heap *heap, char *buf)
{
	strscpy(buf, heap->name, PYM_TRACE_NAME);
}

/*
 * The heap a pointer about to be freed belongs to: large blocks count
 * against the default heap; "-" for what pymalloc does not hold, which
 * the free will refuse.
 */
void pym_trace_heap_name(const void *p, char *buf)
{
	struct pym_core *core = NULL;
	struct pym_arena *a;

	rcu_read_lock();
	a = pym_arena_lookup(p);
	if (a)
		core = READ_ONCE(a->core);
	if (core)
		pym_trace_name(pym_core_heap(core), buf);
	else if (!a && pym_large_size(p))
		pym_trace_name(pym_default_heap, buf);
	else
		strscpy(buf, "-", PYM_TRACE_NAME);
	rcu_read_unlock();
}
