// SPDX-License-Identifier: GPL-2.0
/*
 * pcpu.c - per-CPU magazines in front of a heap's core.
 *
 * Each CPU keeps, per heap and size class, a small stack of free blocks (a
 * magazine). Allocation pops and free pushes on the local CPU with
 * preemption off and interrupts on, committing with an unlocked local
 * cmpxchg that an interrupt in between makes fail and retry
 * (pym_mag_pop_local()): no shared lock, no atomic instruction, no
 * interrupt masking. What this file does runs with interrupts off.
 *
 * Behind the magazines, each heap has a depot per class (magazine.h): a
 * full magazine puts its older half there, an empty one takes a batch
 * from there, and only when the depot is full, or empty, does the core
 * (under the heap lock) take or give the blocks. A block freed on another
 * CPU than the one that allocated it goes into the freeing CPU's magazine;
 * when one CPU keeps freeing what another allocates, the blocks travel
 * back through the depot, a batch per lock round trip, and cross-CPU
 * frees serialise neither on the heap lock nor block by block.
 *
 * The magazine itself, and the marker that keeps cached blocks known free
 * to the always-on checks, are portable (magazine.h); here they are per
 * CPU, with a per-boot random secret. Statistics subtract the cached
 * blocks, magazines' and depots', from "in use" and count them as
 * available.
 *
 * What is cached is bounded (pym_mag_cap(): at most 2 KiB per class, 31
 * blocks, per CPU and once more in the depot) and goes back to the core
 * when the heap is destroyed, under memory pressure (shrinker), when a
 * CPU goes offline (its magazines), and when the heap has had no refill
 * or overflow for a whole PYM_IDLE_PERIOD: cached blocks pin their
 * arenas, and an idle heap should not hold memory for nothing.
 */
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/mutex.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/rcupdate.h>
#include <linux/smp.h>

#include "compat.h"
#include "internal.h"

unsigned long pym_mag_secret __read_mostly;
static enum cpuhp_state pym_cpuhp_state;

#define PYM_IDLE_PERIOD		HZ

/* The caches are in use; look again in a while. */
static void mag_activity(struct pym_heap *heap)
{
	atomic_long_inc(&heap->mag_activity);
	if (!delayed_work_pending(&heap->idle_work))
		schedule_delayed_work(&heap->idle_work, PYM_IDLE_PERIOD);
}

void pym_idle_work(struct work_struct *work)
{
	struct pym_heap *heap = container_of(to_delayed_work(work),
					     struct pym_heap, idle_work);
	struct pym_pcpu __percpu *pcpu = READ_ONCE(heap->pcpu);
	unsigned long activity = atomic_long_read(&heap->mag_activity);

	if (!pcpu)
		return;
	if (activity != heap->idle_seen) {
		heap->idle_seen = activity;
		schedule_delayed_work(&heap->idle_work, PYM_IDLE_PERIOD);
		return;
	}
	pym_mag_drain(heap, pcpu, false);
}

/*
 * The magazine is empty: take a batch from the depot, else from the core.
 * Interrupts are off.
 */
void *pym_pcpu_refill(struct pym_heap *heap, struct pym_mag *mag,
		      unsigned int cls)
{
	struct pym_pcpu_depot *pd = &heap->depot[cls];
	void *p = NULL;

	mag_activity(heap);
	if (!pym_depot_empty(&pd->d)) {
		spin_lock(&pd->lock);
		p = pym_depot_get(&pd->d, mag, pym_mag_state_cap(mag->state) / 2 + 1);
		spin_unlock(&pd->lock);
		if (p)
			return p;
	}
	spin_lock(&heap->lock);
	p = pym_mag_refill(&heap->core, mag, cls, pym_mag_secret);
	spin_unlock(&heap->lock);
	return p;
}

static struct pym_arena *arena_of(const void *p)
{
	return pym_arena_lookup(p);
}

/* Give the n oldest blocks of mag back to the core; interrupts are off. */
static void mag_flush(struct pym_heap *heap, struct pym_mag *mag,
		      unsigned int n, struct pym_arena **release)
{
	spin_lock(&heap->lock);
	pym_mag_flush(&heap->core, mag, n, arena_of, release);
	spin_unlock(&heap->lock);
}

/*
 * The magazine is full: its older half goes to the depot, or what of it
 * does not fit there, back to the core. Interrupts are off.
 */
void pym_pcpu_overflow(struct pym_heap *heap, struct pym_mag *mag,
		       unsigned int cls, struct pym_arena **release)
{
	struct pym_pcpu_depot *pd = &heap->depot[cls];
	unsigned int n = pym_mag_state_cap(mag->state) / 2;

	mag_activity(heap);
	if (!pym_depot_full(&pd->d)) {
		spin_lock(&pd->lock);
		n -= pym_depot_put(&pd->d, mag, n);
		spin_unlock(&pd->lock);
	}
	if (n)
		mag_flush(heap, mag, n, release);
}

/* Give every block in heap's depots back to its core. */
static void depot_drain(struct pym_heap *heap, struct pym_arena **release)
{
	unsigned long flags;
	unsigned int c;

	for (c = 0; c < PYM_NR_CLASSES; c++) {
		struct pym_pcpu_depot *pd = &heap->depot[c];

		if (pym_depot_empty(&pd->d))
			continue;
		spin_lock_irqsave(&pd->lock, flags);
		spin_lock(&heap->lock);
		pym_depot_flush(&heap->core, &pd->d, arena_of, release);
		spin_unlock(&heap->lock);
		spin_unlock_irqrestore(&pd->lock, flags);
	}
}

static void drain_cpu(struct pym_heap *heap, struct pym_pcpu *pc,
		      struct pym_arena **release)
{
	unsigned int c;

	for (c = 0; c < PYM_NR_CLASSES; c++)
		mag_flush(heap, &pc->mags[c], pym_mag_len(&pc->mags[c]), release);
}

struct drain_ctx {
	struct pym_heap *heap;
	struct pym_pcpu __percpu *pcpu;
};

/* IPI: interrupts are off, arenas can be released right here. */
static void drain_this_cpu(void *arg)
{
	struct drain_ctx *dc = arg;
	struct pym_arena *release = NULL;

	drain_cpu(dc->heap, this_cpu_ptr(dc->pcpu), &release);
	pym_release_arenas(release);
}

/*
 * Give every block cached in pcpu and in heap's depots back to heap's
 * core. Online CPUs drain themselves (an IPI); with offline set, the lists
 * of offline CPUs are drained here too, with hotplug held off. Otherwise
 * they are empty: the hotplug callback drained them when their CPU died.
 */
void pym_mag_drain(struct pym_heap *heap, struct pym_pcpu __percpu *pcpu,
		   bool offline)
{
	struct drain_ctx dc = { .heap = heap, .pcpu = pcpu };
	struct pym_arena *release = NULL;
	unsigned long flags;
	int cpu;

	if (!offline) {
		on_each_cpu(drain_this_cpu, &dc, 1);
	} else {
		cpus_read_lock();
		on_each_cpu(drain_this_cpu, &dc, 1);
		for_each_possible_cpu(cpu) {
			if (cpu_online(cpu))
				continue;
			local_irq_save(flags);
			drain_cpu(heap, per_cpu_ptr(pcpu, cpu), &release);
			local_irq_restore(flags);
		}
		cpus_read_unlock();
	}
	depot_drain(heap, &release);
	pym_release_arenas(release);
}

/* Blocks cached per class over all CPUs; racy but exact when quiet. */
void pym_mag_count(struct pym_heap *heap, u64 *cached)
{
	unsigned int c;
	int cpu;
	struct pym_pcpu __percpu *pcpu = READ_ONCE(heap->pcpu);

	memset(cached, 0, PYM_NR_CLASSES * sizeof(*cached));
	if (!pcpu)
		return;
	for_each_possible_cpu(cpu) {
		struct pym_pcpu *pc = per_cpu_ptr(pcpu, cpu);

		for (c = 0; c < PYM_NR_CLASSES; c++)
			cached[c] += pym_mag_len(&pc->mags[c]);
	}
	for (c = 0; c < PYM_NR_CLASSES; c++)
		cached[c] += READ_ONCE(heap->depot[c].d.len);
}
EXPORT_SYMBOL_IF_KUNIT(pym_mag_count);

/* The magazines and depots of a new heap; process context. */
int pym_pcpu_create(struct pym_heap *heap)
{
	unsigned int c;
	int cpu;

	heap->depot = kvcalloc(PYM_NR_CLASSES, sizeof(*heap->depot), GFP_KERNEL);
	heap->pcpu = alloc_percpu(struct pym_pcpu);
	if (!heap->depot || !heap->pcpu) {
		pym_pcpu_destroy(heap, heap->pcpu);
		heap->pcpu = NULL;
		return -ENOMEM;
	}
	for (c = 0; c < PYM_NR_CLASSES; c++) {
		spin_lock_init(&heap->depot[c].lock);
		pym_depot_init(&heap->depot[c].d, c);
	}
	for_each_possible_cpu(cpu)
		for (c = 0; c < PYM_NR_CLASSES; c++)
			pym_mag_init(&per_cpu_ptr(heap->pcpu, cpu)->mags[c], c);
	INIT_DELAYED_WORK(&heap->idle_work, pym_idle_work);
	return 0;
}

/*
 * Free pcpu, the magazines heap had, and its depots, once no free can
 * reach them any more (heap->pcpu cleared, a grace period gone by) and
 * they have been drained.
 */
void pym_pcpu_destroy(struct pym_heap *heap, struct pym_pcpu __percpu *pcpu)
{
	free_percpu(pcpu);
	kvfree(heap->depot);
	heap->depot = NULL;
}

static int pym_cpu_dead(unsigned int cpu)
{
	struct pym_arena *release = NULL;
	struct pym_heap *heap;
	unsigned long flags;

	spin_lock(&pym_heaps_lock);
	list_for_each_entry(heap, &pym_heaps, node) {
		if (!heap->pcpu)
			continue;
		local_irq_save(flags);
		drain_cpu(heap, per_cpu_ptr(heap->pcpu, cpu), &release);
		local_irq_restore(flags);
	}
	spin_unlock(&pym_heaps_lock);
	pym_release_arenas(release);
	return 0;
}

int pym_pcpu_init(void)
{
	int ret;

	pym_mag_secret = get_random_long() | 1;
	ret = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN, "pymalloc:dead",
					NULL, pym_cpu_dead);
	if (ret < 0)
		return ret;
	pym_cpuhp_state = ret;
	return 0;
}

void pym_pcpu_exit(void)
{
	cpuhp_remove_state_nocalls(pym_cpuhp_state);
}
