// SPDX-License-Identifier: GPL-2.0
/*
 * pcpu.c - the per-CPU magazines' life outside the fast paths: setup and
 * teardown with their heap, draining (idle heaps, reclaim, heap
 * destruction), CPU hotplug, and counting for the figures.
 *
 * Each CPU keeps, per heap and size class, a magazine of free blocks, and
 * each heap a depot per class behind them (magazine.h holds both and the
 * policy between them; alloc.c uses them). The code here runs with the
 * magazines owned (pcpu.h: their CPU with interrupts off, or on
 * PREEMPT_RT their lock held), reaching other CPUs' magazines through an
 * IPI, or on RT through their locks.
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

/* The magazines' marker secret (magazine.h), random per boot. */
unsigned long pym_pcpu_secret __read_mostly;
static enum cpuhp_state pym_cpuhp_state;

#define PYM_IDLE_PERIOD		HZ

/* A refill or overflow: the heap's caches are in use; look again later. */
void pym_pcpu_busy(struct pym_heap *heap)
{
	atomic_long_inc(&heap->mag_activity);
	if (!delayed_work_pending(&heap->idle_work))
		schedule_delayed_work(&heap->idle_work, PYM_IDLE_PERIOD);
}

static void idle_work(struct work_struct *work)
{
	struct pym_heap *heap = container_of(to_delayed_work(work),
					     struct pym_heap, idle_work);
	struct pym_pcpu __percpu *pcpu = READ_ONCE(heap->pcpu);
	unsigned long activity = atomic_long_read(&heap->mag_activity);

	if (!pcpu)
		return;
	if (activity != heap->idle_seen) {
		heap->idle_seen = activity;
		pym_heap_age(heap, false);
		schedule_delayed_work(&heap->idle_work, PYM_IDLE_PERIOD);
		return;
	}
	pym_pcpu_drain(heap, pcpu, false);
	pym_heap_age(heap, true);
}

/* Give every block in heap's depots back to its core. */
static void depot_drain(struct pym_heap *heap, struct pym_arena **release)
{
	unsigned long flags;
	unsigned int c;

	for (c = 0; c < PYM_NR_CLASSES; c++) {
		struct pym_depot *d = &heap->depot[c];

		if (pym_depot_empty(d))
			continue;
		spin_lock_irqsave(&d->lock, flags);
		spin_lock(&heap->core.lock);
		pym_depot_flush(&heap->core, d, pym_arena_lookup, release);
		spin_unlock(&heap->core.lock);
		spin_unlock_irqrestore(&d->lock, flags);
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
			pym_mag_flush(&heap->core, &pc->mags[c], n,
				      pym_arena_lookup, release);
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
	int cpu;
	struct pym_arena *release;
};

static bool heap_holds_blocks(struct pym_heap *heap, void *arg)
{
	struct pym_pcpu __percpu *pcpu = READ_ONCE(heap->pcpu);
	struct drain_ctx *dc = arg;

	return pcpu && holds_blocks(per_cpu_ptr(pcpu, dc->cpu));
}

static bool cpu_holds_blocks(int cpu, void *arg)
{
	struct drain_ctx *dc = arg, here = { .cpu = cpu };

	if (dc->heap)
		return holds_blocks(per_cpu_ptr(dc->pcpu, cpu));
	return pym_heaps_any(heap_holds_blocks, &here);
}

static bool drain_heap_here(struct pym_heap *heap, void *arg)
{
	struct pym_pcpu __percpu *pcpu = READ_ONCE(heap->pcpu);
	struct drain_ctx *dc = arg;

	if (pcpu && holds_blocks(this_cpu_ptr(pcpu)))
		drain_mags(heap, this_cpu_ptr(pcpu), &dc->release);
	return false;
}

/* IPI: this CPU owns its magazines; arenas can be released right here. */
static void drain_this_cpu(void *arg)
{
	struct drain_ctx *dc = arg, here = { };

	if (dc->heap)
		drain_mags(dc->heap, this_cpu_ptr(dc->pcpu), &here.release);
	else
		pym_heaps_any(drain_heap_here, &here);
	pym_heap_release_arenas(here.release);
}
#else
static bool drain_heap_remote(struct pym_heap *heap, void *arg)
{
	struct pym_pcpu __percpu *pcpu = READ_ONCE(heap->pcpu);
	int cpu;

	if (pcpu)
		for_each_online_cpu(cpu)
			drain_remote(heap, pcpu, cpu, arg);
	return false;
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

	if (!heap) {
		pym_heaps_any(drain_heap_remote, release);
		return;
	}
	for_each_online_cpu(cpu)
		drain_remote(heap, pcpu, cpu, release);
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
void pym_pcpu_drain(struct pym_heap *heap, struct pym_pcpu __percpu *pcpu,
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
	pym_heap_release_arenas(release);
}

static bool drain_depots(struct pym_heap *heap, void *arg)
{
	if (READ_ONCE(heap->pcpu))
		depot_drain(heap, arg);
	return false;
}

/*
 * Every heap's magazines and depots back to their cores, for reclaim:
 * bounded by one round over the CPUs and one walk of the heaps.
 */
void pym_pcpu_drain_all(void)
{
	struct pym_arena *release = NULL;

	drain_online(NULL, NULL, &release);
	pym_heaps_any(drain_depots, &release);
	pym_heap_release_arenas(release);
}

#ifndef CONFIG_PREEMPT_RT
struct reclaim_ctx {
	struct pym_heap *heap;
	struct pym_pcpu __percpu *pcpu;
	unsigned int cls;
	atomic_t moved;
};

/*
 * Other CPUs only: this CPU's magazine was found empty just now, and what
 * an interrupt has put there since, the caller's next try takes anyway.
 */
static bool cpu_caches_class(int cpu, void *arg)
{
	struct reclaim_ctx *rc = arg;

	return cpu != smp_processor_id() &&
	       pym_mag_len(&per_cpu_ptr(rc->pcpu, cpu)->mags[rc->cls]);
}

/* IPI: this CPU's blocks of the class back to the core. */
static void reclaim_this_cpu(void *arg)
{
	struct reclaim_ctx *rc = arg;
	struct pym_mag *mag = &this_cpu_ptr(rc->pcpu)->mags[rc->cls];
	struct pym_arena *release = NULL;
	unsigned int n = pym_mag_len(mag);

	if (!n)
		return;
	pym_mag_flush(&rc->heap->core, mag, n, pym_arena_lookup, &release);
	atomic_add(n, &rc->moved);
	pym_heap_release_arenas(release);
}
#endif

/*
 * Before heap grows by an arena for class cls: the blocks of cls that
 * other CPUs cache go back to the core first, so that no arena is added
 * while blocks of the class sit idle in another CPU's magazine (the depot
 * was asked already, by the refill). Whether any came back. Only for a
 * caller that may block: it waits for an IPI to each CPU caching such
 * blocks (on PREEMPT_RT, takes their locks in turn).
 */
bool pym_pcpu_reclaim_class(struct pym_heap *heap,
			    struct pym_pcpu __percpu *pcpu, unsigned int cls)
{
#ifdef CONFIG_PREEMPT_RT
	struct pym_arena *release = NULL;
	unsigned long flags;
	unsigned int n, moved = 0;
	int cpu;

	for_each_online_cpu(cpu) {
		struct pym_pcpu *pc = per_cpu_ptr(pcpu, cpu);

		if (cpu == raw_smp_processor_id() || !pym_mag_len(&pc->mags[cls]))
			continue;
		spin_lock_irqsave(&pc->lock, flags);
		n = pym_mag_len(&pc->mags[cls]);
		if (n)
			pym_mag_flush(&heap->core, &pc->mags[cls], n,
				      pym_arena_lookup, &release);
		spin_unlock_irqrestore(&pc->lock, flags);
		moved += n;
	}
	pym_heap_release_arenas(release);
	return moved;
#else
	struct reclaim_ctx rc = { .heap = heap, .pcpu = pcpu, .cls = cls };

	on_each_cpu_cond(cpu_caches_class, reclaim_this_cpu, &rc, true);
	return atomic_read(&rc.moved);
#endif
}

/* Blocks cached per class over all CPUs; racy but exact when quiet. */
void pym_pcpu_count(struct pym_heap *heap, u64 *cached)
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
		cached[c] += READ_ONCE(heap->depot[c].len);
}
EXPORT_SYMBOL_IF_KUNIT(pym_pcpu_count);

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
	for (c = 0; c < PYM_NR_CLASSES; c++)
		pym_depot_init(&heap->depot[c], c);
	for_each_possible_cpu(cpu) {
		struct pym_pcpu *pc = per_cpu_ptr(heap->pcpu, cpu);

#ifdef CONFIG_PREEMPT_RT
		spin_lock_init(&pc->lock);
#endif
		for (c = 0; c < PYM_NR_CLASSES; c++)
			pym_mag_init(&pc->mags[c], c, cpu);
	}
	INIT_DELAYED_WORK(&heap->idle_work, idle_work);
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

struct dead_ctx {
	int cpu;
	struct pym_arena *release;
};

static bool drain_dead(struct pym_heap *heap, void *arg)
{
	struct pym_pcpu __percpu *pcpu = READ_ONCE(heap->pcpu);
	struct dead_ctx *dc = arg;

	if (pcpu)
		drain_remote(heap, pcpu, dc->cpu, &dc->release);
	return false;
}

/* A CPU died: hand its cached blocks back; no one else touches them now. */
static int pym_cpu_dead(unsigned int cpu)
{
	struct dead_ctx dc = { .cpu = cpu };

	pym_heaps_any(drain_dead, &dc);
	pym_heap_release_arenas(dc.release);
	return 0;
}

int pym_pcpu_init(void)
{
	int ret;

	pym_pcpu_secret = get_random_long() | 1;
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
