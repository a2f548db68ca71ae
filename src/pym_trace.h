/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pym_trace.h - pymalloc's tracepoints, in the pymalloc: system.
 *
 * pym_alloc and pym_free carry the fields of kmem:kmalloc and kmem:kfree,
 * in the same order and under the same names, plus the heap's name, so a
 * script written for those reads these after renaming the event. They
 * are called from the observed paths, which the fast paths enter through
 * one static branch, pym_observing, on while either event has a probe
 * (pym_trace_watch()). The arguments are what the paths have at hand;
 * anything else is found in TP_fast_assign().
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM pymalloc

#if !defined(_PYM_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _PYM_TRACE_H

#include <linux/tracepoint.h>
#include <trace/events/mmflags.h>

/* Heap and type names in events; longer ones are cut. */
#define PYM_TRACE_NAME	32

struct pym_heap;
struct pym_object;

size_t pym_trace_block_bytes(struct pym_heap *heap, const void *p,
			     size_t size);
int pym_trace_node(const void *p);
void pym_trace_heap_name(const void *p, char *buf);
void pym_trace_name(const struct pym_heap *heap, char *buf);
int pym_trace_watch(void);
void pym_trace_unwatch(void);

TRACE_EVENT_FN(pym_alloc,
	       TP_PROTO(unsigned long call_site, const void *ptr,
			struct pym_heap *heap, size_t bytes_req, gfp_t gfp_flags),
	       TP_ARGS(call_site, ptr, heap, bytes_req, gfp_flags),
	       TP_STRUCT__entry(__field(unsigned long, call_site)
				__field(const void *, ptr)
				__field(size_t, bytes_req)
				__field(size_t, bytes_alloc)
				__field(unsigned long, gfp_flags)
				__field(int, node)
				__array(char, heap, PYM_TRACE_NAME)),
	       TP_fast_assign(__entry->call_site = call_site;
			      __entry->ptr = ptr;
			      __entry->bytes_req = bytes_req;
			      __entry->bytes_alloc =
				   pym_trace_block_bytes(heap, ptr, bytes_req);
			      __entry->gfp_flags = (__force unsigned long)gfp_flags;
			      __entry->node = pym_trace_node(ptr);
			      pym_trace_name(heap, __entry->heap);),
	       TP_printk("call_site=%pS ptr=%p bytes_req=%zu bytes_alloc=%zu gfp_flags=%s node=%d heap=%s",
			 (void *)__entry->call_site, __entry->ptr,
			 __entry->bytes_req, __entry->bytes_alloc,
			 show_gfp_flags(__entry->gfp_flags), __entry->node,
			 __entry->heap),
	       pym_trace_watch, pym_trace_unwatch);

TRACE_EVENT_FN(pym_free,
	       TP_PROTO(unsigned long call_site, const void *ptr),
	       TP_ARGS(call_site, ptr),
	       TP_STRUCT__entry(__field(unsigned long, call_site)
				__field(const void *, ptr)
				__array(char, heap, PYM_TRACE_NAME)),
	       TP_fast_assign(__entry->call_site = call_site;
			      __entry->ptr = ptr;
			      pym_trace_heap_name(ptr, __entry->heap);),
	       TP_printk("call_site=%pS ptr=%p heap=%s",
			 (void *)__entry->call_site, __entry->ptr,
			 __entry->heap),
	       pym_trace_watch, pym_trace_unwatch);

DECLARE_EVENT_CLASS(pym_arena,
		    TP_PROTO(const struct pym_heap *heap, u64 id, int node),
		    TP_ARGS(heap, id, node),
		    TP_STRUCT__entry(__field(u64, id)
				     __field(int, node)
				     __array(char, heap, PYM_TRACE_NAME)),
		    TP_fast_assign(__entry->id = id;
				   __entry->node = node;
				   pym_trace_name(heap, __entry->heap);),
		    TP_printk("heap=%s arena=%llu node=%d", __entry->heap,
			      (unsigned long long)__entry->id, __entry->node));

DEFINE_EVENT(pym_arena, pym_arena_alloc,
	     TP_PROTO(const struct pym_heap *heap, u64 id, int node),
	     TP_ARGS(heap, id, node));

DEFINE_EVENT(pym_arena, pym_arena_free,
	     TP_PROTO(const struct pym_heap *heap, u64 id, int node),
	     TP_ARGS(heap, id, node));

TRACE_EVENT(pym_obj_release,
	    TP_PROTO(const struct pym_object *obj, const char *type,
		     size_t size),
	    TP_ARGS(obj, type, size),
	    TP_STRUCT__entry(__field(const void *, obj)
			     __field(size_t, size)
			     __array(char, type, PYM_TRACE_NAME)),
	    TP_fast_assign(__entry->obj = obj;
			   __entry->size = size;
			   strscpy(__entry->type, type, PYM_TRACE_NAME);),
	    TP_printk("obj=%p type=%s size=%zu", __entry->obj, __entry->type,
		      __entry->size));

TRACE_EVENT(pym_gc_collect,
	    TP_PROTO(unsigned int generation, long collected,
		     u64 uncollectable, u64 ns),
	    TP_ARGS(generation, collected, uncollectable, ns),
	    TP_STRUCT__entry(__field(unsigned int, generation)
			     __field(long, collected)
			     __field(u64, uncollectable)
			     __field(u64, ns)),
	    TP_fast_assign(__entry->generation = generation;
			   __entry->collected = collected;
			   __entry->uncollectable = uncollectable;
			   __entry->ns = ns;),
	    TP_printk("generation=%u collected=%ld uncollectable=%llu ns=%llu",
		      __entry->generation, __entry->collected,
		      (unsigned long long)__entry->uncollectable,
		      (unsigned long long)__entry->ns));

#endif /* _PYM_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE pym_trace
#include <trace/define_trace.h>
