/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pym_env.h - everything the allocator core takes from its environment.
 *
 * The core (core.c, check.c, stats.c) includes nothing else, so the same
 * code builds in the kernel and in user space, where it runs under ASan,
 * UBSan and callgrind (tools/testing/core/ supplies pym_env_user.h, as the
 * kernel's own tools/testing/vma supplies its headers). Keep this small: a
 * dependency added here is a dependency of both builds.
 */
#ifndef _PYM_ENV_H
#define _PYM_ENV_H

#ifdef __KERNEL__

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/bits.h>
#include <linux/bug.h>
#include <linux/compiler.h>
#include <linux/irqflags.h>
#include <linux/kernel.h>
#include <linux/lockdep.h>
#include <linux/log2.h>
#include <linux/percpu.h>
#include <linux/spinlock.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/swab.h>
#include <linux/threads.h>
#include <linux/types.h>

#define PYM_PAGE_SHIFT		PAGE_SHIFT
/* The magazines' states number their CPU in this many bits. */
#define PYM_NR_CPU_BITS		order_base_2(NR_CPUS)

/*
 * 6.5 added this_cpu_try_cmpxchg(); before it, the same from
 * this_cpu_cmpxchg(), for the one word the magazines commit with.
 */
#ifndef this_cpu_try_cmpxchg
#define this_cpu_try_cmpxchg(pcp, ovalp, nval) ({			\
	typeof(ovalp) __ovalp = (ovalp);				\
	typeof(*__ovalp) __old = *__ovalp;				\
	*__ovalp = this_cpu_cmpxchg(pcp, __old, nval);			\
	*__ovalp == __old;						\
})
#endif

/*
 * The core's and the depots' locks. Taken only with the magazines owned
 * (interrupts off, or on PREEMPT_RT the magazines' own lock), so plain
 * spin_lock() is enough there; the heap code takes them irqsave elsewhere.
 */
#define pym_lock_t		spinlock_t
#define pym_lock_init(l)	spin_lock_init(l)
#define pym_lock(l)		spin_lock(l)
#define pym_unlock(l)		spin_unlock(l)
/* The magazine push's contract, checked: interrupts are masked. */
#define pym_assert_irqs_disabled()	lockdep_assert_irqs_disabled()
/* The core's contract, checked: its lock is held. */
#define pym_core_assert_held(core) lockdep_assert_held(&(core)->lock)
/* Only user-space tests put a simulated interrupt there (magazine.h). */
static __always_inline void pym_mag_race_window(void *mag)
{
}

#else

/* The user-space build provides the same names: tools/testing/core/. */
#include <pym_env_user.h>

#endif /* __KERNEL__ */

#endif /* _PYM_ENV_H */
