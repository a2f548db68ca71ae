/* SPDX-License-Identifier: GPL-2.0 */
/*
 * uheap.h - a user-space heap around the allocator core: what heap.c does in
 * the kernel (arena supply, address-to-arena lookup, small/large split),
 * minus locking, so tests, fuzzers and callgrind drive the real core.
 */
#ifndef _UHEAP_H
#define _UHEAP_H

#include "../../../src/core.h"

struct uheap {
	struct pym_core core;
	unsigned long arena_fail_after;	/* fail arena supply after N, 0 = never */
	unsigned long arenas_supplied;
	unsigned char fresh_pattern;	/* written over new arenas, 0 = none */
};

void uheap_init(struct uheap *h, unsigned int keep_empty);
void uheap_destroy(struct uheap *h);
void *uheap_alloc(struct uheap *h, size_t size);
/* 0, or the refusal: PYM_BLOCK_* for blocks, -1 for a foreign pointer. */
int uheap_free(struct uheap *h, void *p);
struct pym_arena *uheap_arena_of(const void *p);
unsigned int uheap_check(struct uheap *h);

/* struct pym_out printing to stdout with a "# " prefix, TAP style. */
extern struct pym_out uheap_stdout;

#endif /* _UHEAP_H */
