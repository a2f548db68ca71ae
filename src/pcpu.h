/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpu.h - a heap's per-CPU magazines, and who may touch them.
 *
 * Without PREEMPT_RT a CPU's magazines are its own: the fast paths pop
 * preemptible, committing with a cmpxchg on the CPU they run on, which
 * fails if that is not the magazine's, and push with interrupts masked
 * (magazine.h); everything else runs with interrupts off on that CPU,
 * and other CPUs reach them only through an IPI.
 *
 * With PREEMPT_RT, spinlock_t sleeps, so nothing that takes the depot or
 * heap locks may run with preemption or interrupts off. There, as SLUB
 * does on RT, no lock-free fast path is used: every access holds the
 * magazines' own lock, a spinlock_t per heap and CPU. Holding it, not
 * running on the CPU, is what owns the magazines, so a task migrated
 * while holding it stays correct, and a drain takes each CPU's lock in
 * turn from wherever it runs, without IPIs or CPU hotplug locking.
 */
#ifndef _PYM_PCPU_H
#define _PYM_PCPU_H

#include <linux/lockdep.h>
#include <linux/percpu.h>
#include <linux/spinlock.h>

#include "magazine.h"

/* A CPU's magazines, one per class, for one heap. */
struct pym_pcpu {
#ifdef CONFIG_PREEMPT_RT
	spinlock_t lock;		/* owns mags, from any CPU */
#endif
	struct pym_mag mags[PYM_NR_CLASSES];
};

struct pym_heap;

extern unsigned long pym_pcpu_secret;

/* Are the lock-free fast paths (magazine.h's *_local) allowed? */
#define PYM_PCPU_LOCKLESS	(!IS_ENABLED(CONFIG_PREEMPT_RT))

/* Own this CPU's magazines of pcpu, for anything but the fast paths. */
static __always_inline struct pym_pcpu *
pym_pcpu_lock(struct pym_pcpu __percpu *pcpu, unsigned long *flags)
{
	struct pym_pcpu *pc;

#ifdef CONFIG_PREEMPT_RT
	pc = raw_cpu_ptr(pcpu);
	spin_lock_irqsave(&pc->lock, *flags);
#else
	local_irq_save(*flags);
	pc = this_cpu_ptr(pcpu);
#endif
	return pc;
}

static __always_inline void pym_pcpu_unlock(struct pym_pcpu *pc,
					    unsigned long flags)
{
#ifdef CONFIG_PREEMPT_RT
	spin_unlock_irqrestore(&pc->lock, flags);
#else
	local_irq_restore(flags);
#endif
}

/*
 * The caller owns pc: pym_pcpu_lock(), or, without RT, pc's CPU with
 * interrupts off.
 */
static inline void pym_pcpu_assert_owned(struct pym_pcpu *pc)
{
#ifdef CONFIG_PREEMPT_RT
	lockdep_assert_held(&pc->lock);
#else
	lockdep_assert_irqs_disabled();
#endif
}

#endif /* _PYM_PCPU_H */
