// SPDX-License-Identifier: GPL-2.0
/*
 * pcpu.c - per-CPU magazines in front of a heap's core.
 *
 * Each CPU keeps, per heap and size class, a small stack of free blocks (a
 * magazine). Allocation pops and free pushes on the local CPU with
 * preemption off and interrupts on, committing with an unlocked local
 * cmpxchg that an interrupt in between makes fail and retry
 * (pym_mag_pop_local()): no shared lock, no interrupt masking. What this
 * file does runs with the magazines owned (pcpu.h: interrupts off, or on
 * PREEMPT_RT their lock held).
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
 * Lock order: the magazines, then a depot, then the heap (heap.c).
 */
void *pym_pcpu_refill(struct pym_heap *heap, struct pym_pcpu *pc,
		      unsigned int cls)
{
	struct pym_pcpu_depot *pd = &heap->depot[cls];
	struct pym_mag *mag = &pc->mags[cls];
	void *p = NULL;

	pym_pcpu_assert_owned(pc);
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

/* Give the n oldest blocks of mag back to the core. */
static void mag_flush(struct pym_heap *heap, struct pym_mag *mag,
		      unsigned int n, struct pym_arena **release)
{
	spin_lock(&heap->lock);
	pym_mag_flush(&heap->core, mag, n, arena_of, release);
	spin_unlock(&heap->lock);
}

/*
 * The magazine is full: its older half goes to the depot, or what of it
 * does not fit there, back to the core.
 */
void pym_pcpu_overflow(struct pym_heap *heap, struct pym_pcpu *pc,
		       unsigned int cls, struct pym_arena **release)
{
	struct pym_pcpu_depot *pd = &heap->depot[cls];
	struct pym_mag *mag = &pc->mags[cls];
	unsigned int n = pym_mag_state_cap(mag->state) / 2;

	pym_pcpu_assert_owned(pc);
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

/* Racy peek, to skip CPUs and heaps with nothing to give. */
static bool holds_blocks(struct pym_pcpu *pc)
{
	unsigned int c;

	for (c = 0; c < PYM_NR_CLASSES; c++)
		if (pym_mag_len(&pc->mags[c]))
			return true;
	return false;
}

/* Give back every block cached in pc, which the caller owns. */
static void drain_mags(struct pym_heap *heap, struct pym_pcpu *pc,
		       struct pym_arena **release)
{
	unsigned int c, n;

	pym_pcpu_assert_owned(pc);
	for (c = 0; c < PYM_NR_CLASSES; c++) {
		n = pym_mag_len(&pc->mags[c]);
		if (n)
			mag_flush(heap, &pc->mags[c], n, release);
	}
}

/*
 * Drain cpu's magazines of pcpu from wherever this runs: on RT by taking
 * their lock; otherwise only for a CPU that is not running (offline, or
 * dead in the hotplug callback), whose magazines no one else touches.
 */
static void drain_remote(struct pym_heap *heap, struct pym_pcpu __percpu *pcpu,
			 int cpu, struct pym_arena **release)
{
	struct pym_pcpu *pc = per_cpu_ptr(pcpu, cpu);
	unsigned long flags;

	if (!holds_blocks(pc))
		return;
#ifdef CONFIG_PREEMPT_RT
	spin_lock_irqsave(&pc->lock, flags);
	drain_mags(heap, pc, release);
	spin_unlock_irqrestore(&pc->lock, flags);
#else
	local_irq_save(flags);
	drain_mags(heap, pc, release);
	local_irq_restore(flags);
#endif
}

#ifndef CONFIG_PREEMPT_RT
struct drain_ctx {
	struct pym_heap *heap;		/* NULL: every heap */
	struct pym_pcpu __percpu *pcpu;
};

static bool cpu_holds_blocks(int cpu, void *arg)
{
	struct drain_ctx *dc = arg;
	struct pym_heap *heap;
	bool any = false;

	if (dc->heap)
		return holds_blocks(per_cpu_ptr(dc->pcpu, cpu));
	rcu_read_lock();
	list_for_each_entry_rcu(heap, &pym_heaps, node) {
		struct pym_pcpu __percpu *pcpu = READ_ONCE(heap->pcpu);

		if (pcpu && holds_blocks(per_cpu_ptr(pcpu, cpu))) {
			any = true;
			break;
		}
	}
	rcu_read_unlock();
	return any;
}

/* IPI: this CPU owns its magazines; arenas can be released right here. */
static void drain_this_cpu(void *arg)
{
	struct drain_ctx *dc = arg;
	struct pym_arena *release = NULL;
	struct pym_heap *heap;

	if (dc->heap) {
		drain_mags(dc->heap, this_cpu_ptr(dc->pcpu), &release);
	} else {
		rcu_read_lock();
		list_for_each_entry_rcu(heap, &pym_heaps, node) {
			struct pym_pcpu __percpu *pcpu = READ_ONCE(heap->pcpu);

			if (pcpu && holds_blocks(this_cpu_ptr(pcpu)))
				drain_mags(heap, this_cpu_ptr(pcpu), &release);
		}
		rcu_read_unlock();
	}
	pym_release_arenas(release);
}
#endif

/*
 * Give the blocks cached in the magazines of the online CPUs back to the
 * cores: of heap's pcpu, or of every heap when heap is NULL. One round
 * over the CPUs whatever the number of heaps, CPUs with nothing cached
 * skipped, no lock held across it and no CPU hotplug lock taken, so that
 * reclaim may call it. Offline CPUs' magazines were drained when they
 * died (pym_cpu_dead()).
 */
static void drain_online(struct pym_heap *heap, struct pym_pcpu __percpu *pcpu,
			 struct pym_arena **release)
{
#ifdef CONFIG_PREEMPT_RT
	int cpu;

	if (heap) {
		for_each_online_cpu(cpu)
			drain_remote(heap, pcpu, cpu, release);
		return;
	}
	rcu_read_lock();
	list_for_each_entry_rcu(heap, &pym_heaps, node) {
		pcpu = READ_ONCE(heap->pcpu);
		if (!pcpu)
			continue;
		for_each_online_cpu(cpu)
			drain_remote(heap, pcpu, cpu, release);
	}
	rcu_read_unlock();
#else
	struct drain_ctx dc = { .heap = heap, .pcpu = pcpu };

	on_each_cpu_cond(cpu_holds_blocks, drain_this_cpu, &dc, true);
#endif
}

/*
 * Give every block cached in pcpu and in heap's depots back to heap's
 * core. With offline set, for a heap no free reaches any more (retired),
 * the magazines of offline CPUs are drained here too, CPU hotplug held
 * off so that none comes or goes meanwhile; process context only.
 */
void pym_mag_drain(struct pym_heap *heap, struct pym_pcpu __percpu *pcpu,
		   bool offline)
{
	struct pym_arena *release = NULL;
	int cpu;

	if (offline) {
		cpus_read_lock();
		drain_online(heap, pcpu, &release);
		for_each_possible_cpu(cpu)
			if (!cpu_online(cpu))
				drain_remote(heap, pcpu, cpu, &release);
		cpus_read_unlock();
	} else {
		drain_online(heap, pcpu, &release);
	}
	depot_drain(heap, &release);
	pym_release_arenas(release);
}

/*
 * Every heap's magazines and depots back to their cores, for reclaim:
 * bounded by one round over the CPUs and one walk of the heaps.
 */
void pym_mags_drain_all(void)
{
	struct pym_arena *release = NULL;
	struct pym_heap *heap;

	drain_online(NULL, NULL, &release);
	rcu_read_lock();
	list_for_each_entry_rcu(heap, &pym_heaps, node)
		if (READ_ONCE(heap->pcpu))
			depot_drain(heap, &release);
	rcu_read_unlock();
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
	for_each_possible_cpu(cpu) {
		struct pym_pcpu *pc = per_cpu_ptr(heap->pcpu, cpu);

#ifdef CONFIG_PREEMPT_RT
		spin_lock_init(&pc->lock);
#endif
		for (c = 0; c < PYM_NR_CLASSES; c++)
			pym_mag_init(&pc->mags[c], c);
	}
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

/* A CPU died: hand its cached blocks back; no one else touches them now. */
static int pym_cpu_dead(unsigned int cpu)
{
	struct pym_arena *release = NULL;
	struct pym_heap *heap;

	rcu_read_lock();
	list_for_each_entry_rcu(heap, &pym_heaps, node) {
		struct pym_pcpu __percpu *pcpu = READ_ONCE(heap->pcpu);

		if (pcpu)
			drain_remote(heap, pcpu, cpu, &release);
	}
	rcu_read_unlock();
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
