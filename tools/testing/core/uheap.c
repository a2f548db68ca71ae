// SPDX-License-Identifier: GPL-2.0
/*
 * uheap.c - user-space arena supply and arena map for the core.
 *
 * The kernel finds an arena through the struct page of its address; user
 * space has no such thing, so a three-level radix tree over the arena
 * number plays that part, as in CPython 3.10's address_in_range(). Nodes
 * are never freed while the process runs, so a lookup never reads freed
 * memory, only a NULL leaf.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "uheap.h"

#define MAP_BITS	10
#define MAP_FANOUT	BIT(MAP_BITS)
#define MAP_MASK	(MAP_FANOUT - 1)

static void **map_root[MAP_FANOUT];

static struct pym_arena **map_slot(const void *p, int create)
{
	unsigned long n = (unsigned long)p >> PYM_ARENA_SHIFT;
	unsigned long i0 = (n >> (2 * MAP_BITS)) & MAP_MASK;
	unsigned long i1 = (n >> MAP_BITS) & MAP_MASK;
	void **mid;
	struct pym_arena **leaf;

	/* 48-bit addresses: 30 bits of arena number, 10 per level. */
	if (n >> (3 * MAP_BITS))
		return NULL;
	mid = map_root[i0];
	if (!mid) {
		if (!create)
			return NULL;
		mid = calloc(MAP_FANOUT, sizeof(void *));
		map_root[i0] = mid;
	}
	leaf = mid[i1];
	if (!leaf) {
		if (!create)
			return NULL;
		leaf = calloc(MAP_FANOUT, sizeof(void *));
		mid[i1] = leaf;
	}
	return &leaf[n & MAP_MASK];
}

struct pym_arena *uheap_arena_of(const void *p)
{
	struct pym_arena **slot = map_slot(p, 0);

	return slot ? *slot : NULL;
}

static void print_stdout(struct pym_out *out, const char *fmt, ...)
{
	va_list ap;

	(void)out;
	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

struct pym_out uheap_stdout = { .print = print_stdout };

void uheap_init(struct uheap *h, unsigned int keep_empty)
{
	memset(h, 0, sizeof(*h));
	pym_core_init(&h->core, keep_empty);
}

static void release_arenas(struct pym_arena *a)
{
	while (a) {
		struct pym_arena *next = a->release_next;

		*map_slot(a->base, 0) = NULL;
		free(a->base);
		free(a);
		a = next;
	}
}

static int add_arena(struct uheap *h)
{
	struct pym_arena *a;
	void *base;

	if (h->arena_fail_after && h->arenas_supplied >= h->arena_fail_after) {
		h->core.cnt.alloc_failures++;
		return -1;
	}
	base = aligned_alloc(PYM_ARENA_SIZE, PYM_ARENA_SIZE);
	a = malloc(sizeof(*a));
	if (!base || !a) {
		free(base);
		free(a);
		h->core.cnt.alloc_failures++;
		return -1;
	}
	if (h->fresh_pattern)
		memset(base, h->fresh_pattern, PYM_ARENA_SIZE);
	pym_core_add_arena(&h->core, a, base, 0);
	*map_slot(base, 1) = a;
	h->arenas_supplied++;
	return 0;
}

void *uheap_alloc(struct uheap *h, size_t size)
{
	unsigned int cls;
	void *p;

	if (size == 0 || size > PYM_SMALL_THRESHOLD)
		return malloc(size ? size : 1);
	cls = pym_size_class(size);
	while (!(p = pym_core_alloc(&h->core, cls)))
		if (add_arena(h))
			return NULL;
	return p;
}

int uheap_free(struct uheap *h, void *p)
{
	struct pym_arena *a = uheap_arena_of(p), *release = NULL;
	enum pym_block_status st;

	if (!a) {
		free(p);
		return 0;
	}
	if (a->core != &h->core)
		return -1;
	st = pym_core_free(&h->core, a, p, false, &release);
	release_arenas(release);
	return st;
}

unsigned int uheap_check(struct uheap *h)
{
	return pym_core_check(&h->core, &uheap_stdout);
}

void uheap_destroy(struct uheap *h)
{
	struct pym_arena *release = NULL;

	pym_core_trim(&h->core, &release);
	release_arenas(release);
}
