// SPDX-License-Identifier: GPL-2.0
/*
 * replay.c - memory held by pymalloc against kmalloc for the same requests.
 *
 *   replay trace [COPIES] < TRACE  "a <ptr> <bytes_req> <bytes_alloc>" and
 *                                "f <ptr>" lines (capture-kmalloc-trace.sh);
 *                                COPIES independent copies interleaved
 *                                event by event, like as many users of one
 *                                subsystem (default 1)
 *   replay random N MAXLIVE SEED N random allocations/frees, sizes 1..512,
 *                                live set up to MAXLIVE
 *   replay cached trace|random.. the same with one CPU's magazines and the
 *                                depot in front of the core, as in a kernel
 *                                heap
 *   replay churn CYCLES HIGH LOW SEED
 *                                a live set of random sizes 1..512 that
 *                                swings CYCLES times from HIGH objects down
 *                                to LOW and back, the youngest freed first
 *   replay adaptive AGE ...      any of them with the adaptive kept-arena
 *                                policy, the core aged every AGE events as
 *                                a kernel heap is every second
 *
 * kmalloc's side is the sum of bytes_alloc of live objects (the trace's own
 * figure, or kmalloc's size classes for the random workload): a lower bound
 * on its slab pages. pymalloc's side is what it holds from the page
 * allocator: arenas * 256 KiB plus their descriptors, each its share of
 * a slab as the kernel's come (pym_desc_cost()).
 * Requests above 512 bytes go to kmalloc either way and count on both.
 * The figures are taken at each side's own peak. At the peak of pools in
 * use it also prints how many pools perfect packing would need: the
 * blocks the core has handed out (to callers or to caches), class by
 * class, in as few pools as hold them. The difference is fragmentation;
 * what remains is the cost of 64 classes having a pool each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uheap.h"

#define DESCRIPTOR_BYTES	((unsigned long long)pym_desc_cost(sizeof(struct pym_arena)))

struct obj {
	unsigned long key;
	void *p;
	unsigned int req, alloc;
	struct obj *next;
};

#define NBUCKETS	BIT(16)
static struct obj *bucket[NBUCKETS];

static struct obj **find(unsigned long key)
{
	struct obj **o = &bucket[(key >> 4 ^ key >> 20) & (NBUCKETS - 1)];

	while (*o && (*o)->key != key)
		o = &(*o)->next;
	return o;
}

struct totals {
	unsigned long long events, small, live_k, peak_k, large_live;
	unsigned long long peak_p, peak_arenas, small_k, peak_small_k;
	unsigned long long peak_pools, packed_pools, block_bytes, cached_bytes;
};

/* Pools holding blocks, the fewest that could hold them, their bytes. */
static void count_pools(struct uheap *h, unsigned long long *used,
			unsigned long long *packed, unsigned long long *bytes)
{
	unsigned long long blocks[PYM_NR_CLASSES] = { 0 };
	const struct pym_link *l;
	unsigned int c, i;

	*used = 0;
	*packed = 0;
	*bytes = 0;
	for (l = h->core.all_arenas.next; l != &h->core.all_arenas; l = l->next) {
		struct pym_arena *a = container_of(l, struct pym_arena, all);

		for (i = 0; i < PYM_POOLS_PER_ARENA; i++) {
			const struct pym_pool *pool = &a->pools[i];

			if (pool->ref) {
				(*used)++;
				blocks[pool->cls] += pool->ref;
			}
		}
	}
	for (c = 0; c < PYM_NR_CLASSES; c++) {
		*packed += (blocks[c] + pym_class_capacity[c] - 1) /
			   pym_class_capacity[c];
		*bytes += blocks[c] * pym_class_size(c);
	}
}

static unsigned long long cached_bytes(struct uheap *h)
{
	unsigned long long bytes = 0;
	unsigned int c;

	for (c = 0; h->cached && c < PYM_NR_CLASSES; c++)
		bytes += (unsigned long long)(pym_mag_len(&h->mags[c]) +
					      h->depots[c].len) * pym_class_size(c);
	return bytes;
}

static unsigned long age_every;

static void sample(struct uheap *h, struct totals *t)
{
	if (age_every && t->events % age_every == 0)
		uheap_age(h, false);
	unsigned long long arenas = h->core.cnt[PYM_STAT_ARENAS_CURRENT];
	unsigned long long held = arenas * (PYM_ARENA_SIZE + DESCRIPTOR_BYTES) +
				  t->large_live;

	if (t->live_k > t->peak_k)
		t->peak_k = t->live_k;
	if (t->small_k > t->peak_small_k)
		t->peak_small_k = t->small_k;
	if (held > t->peak_p)
		t->peak_p = held;
	if (arenas > t->peak_arenas)
		t->peak_arenas = arenas;
	/* Walking every pool is slow: only when the arena count may be high. */
	if (arenas == t->peak_arenas) {
		unsigned long long used, packed, bytes;

		count_pools(h, &used, &packed, &bytes);
		if (used > t->peak_pools) {
			t->peak_pools = used;
			t->packed_pools = packed;
			t->block_bytes = bytes;
			t->cached_bytes = cached_bytes(h);
		}
	}
}

/* o's allocation is over, by a free or by a new one at the same address. */
static void forget(struct uheap *h, struct totals *t, struct obj *o)
{
	t->live_k -= o->alloc;
	if (o->req && o->req <= PYM_SMALL_THRESHOLD) {
		t->small_k -= o->alloc;
		uheap_free(h, o->p);
	} else {
		t->large_live -= o->alloc;
	}
}

static void do_alloc(struct uheap *h, struct totals *t, unsigned long key,
		     unsigned int req, unsigned int alloc)
{
	struct obj **slot = find(key), *o = *slot;

	if (!o) {
		o = calloc(1, sizeof(*o));
		o->key = key;
		*slot = o;
	} else {
		/* Allocated again without a traced free. */
		forget(h, t, o);
	}
	o->req = req;
	o->alloc = alloc;
	t->events++;
	t->live_k += alloc;
	if (req && req <= PYM_SMALL_THRESHOLD) {
		t->small++;
		t->small_k += alloc;
		o->p = uheap_alloc(h, req);
	} else {
		t->large_live += alloc;
	}
	sample(h, t);
}

static void do_free(struct uheap *h, struct totals *t, unsigned long key)
{
	struct obj **slot = find(key), *o = *slot;

	if (!o)
		return;		/* allocated before tracing began */
	t->events++;
	forget(h, t, o);
	*slot = o->next;
	free(o);
	sample(h, t);
}

static unsigned int kmalloc_size(unsigned int n)
{
	static const unsigned int cls[] = { 8, 16, 32, 64, 96, 128, 192, 256, 512 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cls); i++)
		if (n <= cls[i])
			return cls[i];
	return 0;
}

static unsigned long long rng = 88172645463325252ULL;

static unsigned long long rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

int main(int argc, char **argv)
{
	struct totals t = { 0 };
	struct uheap h;
	char line[256];

	if (argc >= 2 && !strcmp(argv[1], "cached")) {
		uheap_init_cached(&h, 1);
		argc--;
		argv++;
	} else {
		uheap_init(&h, 1);
	}
	if (argc >= 3 && !strcmp(argv[1], "adaptive")) {
		age_every = strtoul(argv[2], NULL, 0);
		h.core.keep_adaptive = true;
		argc -= 2;
		argv += 2;
	}
	if (argc >= 2 && !strcmp(argv[1], "trace")) {
		unsigned int copies = argc >= 3 ? strtoul(argv[2], NULL, 0) : 1;
		struct event { unsigned long key; unsigned int req, alloc; } *ev = NULL;
		size_t nev = 0, cap = 0, i;
		unsigned int c;

		if (!copies || copies > 64) {
			fputs("replay: COPIES is 1..64\n", stderr);
			return 2;
		}
		while (fgets(line, sizeof(line), stdin)) {
			struct event e = { 0 };

			if (sscanf(line, "a %lx %u %u", &e.key, &e.req, &e.alloc) != 3 &&
			    sscanf(line, "f %lx", &e.key) != 1)
				continue;
			if (nev == cap) {
				cap = cap ? 2 * cap : 1 << 16;
				ev = realloc(ev, cap * sizeof(*ev));
				if (!ev)
					return 1;
			}
			e.alloc = line[0] == 'a' ? e.alloc : 0;
			e.req = line[0] == 'a' ? e.req : ~0U;
			ev[nev++] = e;
		}
		/* A copy's keys: the trace's, with the copy in the top bits. */
		for (i = 0; i < nev; i++)
			for (c = 0; c < copies; c++) {
				unsigned long key = ev[i].key ^ ((unsigned long)c << 56);

				if (ev[i].req == ~0U)
					do_free(&h, &t, key);
				else
					do_alloc(&h, &t, key, ev[i].req, ev[i].alloc);
			}
		free(ev);
	} else if (argc >= 5 && !strcmp(argv[1], "random")) {
		unsigned long n = strtoul(argv[2], NULL, 0), i, live = 0;
		unsigned long maxlive = strtoul(argv[3], NULL, 0);
		unsigned long *keys = calloc(maxlive, sizeof(*keys));

		rng += strtoul(argv[4], NULL, 0);
		for (i = 0; i < n; i++) {
			if (!live || (live < maxlive && rnd() % 100 < 55)) {
				unsigned int req = 1 + rnd() % PYM_SMALL_THRESHOLD;

				keys[live] = i + 1;
				do_alloc(&h, &t, i + 1, req, kmalloc_size(req));
				live++;
			} else {
				unsigned long k = rnd() % live;

				do_free(&h, &t, keys[k]);
				keys[k] = keys[--live];
			}
		}
		free(keys);
	} else if (argc >= 6 && !strcmp(argv[1], "churn")) {
		unsigned long cycles = strtoul(argv[2], NULL, 0), i, live = 0, key = 0;
		unsigned long high = strtoul(argv[3], NULL, 0);
		unsigned long low = strtoul(argv[4], NULL, 0);
		unsigned long *keys = calloc(high, sizeof(*keys));

		rng += strtoul(argv[5], NULL, 0);
		for (i = 0; i < cycles; i++) {
			while (live < high) {
				unsigned int req = 1 + rnd() % PYM_SMALL_THRESHOLD;

				keys[live++] = ++key;
				do_alloc(&h, &t, key, req, kmalloc_size(req));
			}
			/* Youngest first, as a phase's objects die with it. */
			while (live > low)
				do_free(&h, &t, keys[--live]);
		}
		free(keys);
	} else {
		fputs("usage: replay [cached] [adaptive AGE] trace [COPIES] < TRACE\n"
		      "       replay [cached] [adaptive AGE] random N MAXLIVE SEED\n"
		      "       replay [cached] [adaptive AGE] churn CYCLES HIGH LOW SEED\n",
		      stderr);
		return 2;
	}
	if (uheap_check(&h)) {
		fputs("replay: the heap is inconsistent\n", stderr);
		return 1;
	}
	printf("events %llu, small allocations %llu\n", t.events, t.small);
	printf("kmalloc bytes_alloc at peak        %12llu (small objects: %llu)\n",
	       t.peak_k, t.peak_small_k);
	printf("pymalloc pages held at peak        %12llu (small objects: %llu, %llu arenas)\n",
	       t.peak_p, t.peak_arenas * (PYM_ARENA_SIZE + DESCRIPTOR_BYTES),
	       t.peak_arenas);
	printf("pools in use at their peak         %12llu (perfect packing by class: %llu)\n",
	       t.peak_pools, t.packed_pools);
	printf("  bytes of blocks in those pools     %12llu (of which cached: %llu)\n",
	       t.block_bytes, t.cached_bytes);
	printf("arenas obtained per peak arena      %12.2f (%llu obtained, %llu at the peak)\n",
	       (double)h.core.cnt[PYM_STAT_ARENAS_ALLOCATED] / (double)t.peak_arenas,
	       (unsigned long long)h.core.cnt[PYM_STAT_ARENAS_ALLOCATED],
	       t.peak_arenas);
	printf("ratio pymalloc/kmalloc              %12.3f (small objects: %.3f)\n",
	       (double)t.peak_p / (double)t.peak_k,
	       (double)(t.peak_arenas * (PYM_ARENA_SIZE + DESCRIPTOR_BYTES)) /
	       (double)t.peak_small_k);
	return 0;
}
