/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pym_env_user.h - the kernel names the allocator core uses, for user space.
 * Included only through src/pym_env.h.
 */
#ifndef _PYM_ENV_USER_H
#define _PYM_ENV_USER_H

#include <assert.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;		/* as in the kernel, for %llu */

#define PYM_PAGE_SHIFT		12
#define ____cacheline_aligned_in_smp
#define __percpu

/*
 * One thread runs a heap here, so a lock only checks that the code taking
 * it pairs its calls and never nests it, which the kernel's lockdep would
 * report there.
 */
struct pym_lock {
	int held;
};

#define pym_lock_t		struct pym_lock

static inline void pym_lock_init(pym_lock_t *l)
{
	l->held = 0;
}

static inline void pym_lock(pym_lock_t *l)
{
	assert(!l->held);
	l->held = 1;
}

static inline void pym_unlock(pym_lock_t *l)
{
	assert(l->held);
	l->held = 0;
}

/* The user-space harness calls the core without taking its lock. */
#define pym_core_assert_held(core)	((void)(core))
#define BITS_PER_LONG		(CHAR_BIT * (int)sizeof(long))
#define BIT(n)			(1UL << (n))
#define swab(x)			__builtin_bswap64(x)
#define likely(x)		__builtin_expect(!!(x), 1)
#define unlikely(x)		__builtin_expect(!!(x), 0)
#define PYM_ATTRIBUTE(x)	__attribute__((x))
#define __printf(a, b)		PYM_ATTRIBUTE(__format__(__printf__, a, b))
#define noinline		PYM_ATTRIBUTE(__noinline__)
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#define READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define BUILD_BUG_ON(c)		assert(!(c))
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
/* The core compares only unsigned ints with them. */
static inline unsigned int min(unsigned int a, unsigned int b)
{
	return a < b ? a : b;
}

static inline unsigned int max(unsigned int a, unsigned int b)
{
	return a > b ? a : b;
}

/*
 * Per-CPU addresses, as the kernel's: a CPU's copy lies pym_cpu_offset
 * bytes past the address (uheap.h sets it for its simulated CPUs), so a
 * test can move a pop to another CPU in the middle. One thread runs a
 * heap: the kernel's commit is a CPU-local cmpxchg.
 */
#define PYM_NR_CPU_BITS		6
extern unsigned long pym_cpu_offset;
#define raw_cpu_ptr(p)		((__typeof__(p))((char *)(p) + pym_cpu_offset))
#define raw_cpu_read(pcp)	(*raw_cpu_ptr(&(pcp)))
#define raw_cpu_write(pcp, v)	(*raw_cpu_ptr(&(pcp)) = (v))
#define this_cpu_try_cmpxchg(pcp, old, new) \
	__atomic_compare_exchange_n(raw_cpu_ptr(&(pcp)), old, new, false, \
				    __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)

/* The kernel's read and write barriers, as C11 fences: loads, stores. */
#define smp_rmb()		__atomic_thread_fence(__ATOMIC_ACQUIRE)	/* loads */
#define smp_wmb()		__atomic_thread_fence(__ATOMIC_RELEASE)	/* stores */

/* Atomic against other threads; updates *old when it fails, as the kernel's. */
#define try_cmpxchg(ptr, old, new) \
	__atomic_compare_exchange_n(ptr, old, new, false, __ATOMIC_SEQ_CST, \
				    __ATOMIC_RELAXED)

/* No interrupts here: one thread per magazine, as if always masked. */
#define pym_assert_irqs_disabled()	do { } while (0)

/*
 * An interrupt, simulated: tests set pym_mag_race_hook to run a nested
 * magazine operation inside a lock-free pop or push (magazine.h).
 */
extern void (*pym_mag_race_hook)(void *mag);
#define pym_mag_race_window(mag)	do {	\
	if (pym_mag_race_hook)			\
		pym_mag_race_hook(mag);		\
} while (0)

/*
 * On x86-64, the instructions the kernel's arch bitops use (bts, btr, bt
 * on memory), so that instruction counts here are the kernel's. Under
 * ASan, plain C, whose accesses ASan checks and asm's it cannot.
 */
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
static inline void __set_bit(unsigned int nr, unsigned long *map)
{
	asm volatile("btsq %1, %0" : "+m" (*map)
		     : "r" ((long)nr) : "memory");
}

static inline void __clear_bit(unsigned int nr, unsigned long *map)
{
	asm volatile("btrq %1, %0" : "+m" (*map)
		     : "r" ((long)nr) : "memory");
}

static inline bool test_bit(unsigned int nr, const unsigned long *map)
{
	bool set;

	asm volatile("btq %2, %1" : "=@ccc" (set)
		     : "m" (*map), "r" ((long)nr) : "memory");
	return set;
}
#else
static inline void __set_bit(unsigned int nr, unsigned long *map)
{
	map[nr / BITS_PER_LONG] |= BIT(nr % BITS_PER_LONG);
}

static inline void __clear_bit(unsigned int nr, unsigned long *map)
{
	map[nr / BITS_PER_LONG] &= ~BIT(nr % BITS_PER_LONG);
}

static inline bool test_bit(unsigned int nr, const unsigned long *map)
{
	return (map[nr / BITS_PER_LONG] >> (nr % BITS_PER_LONG)) & 1;
}
#endif

static inline unsigned int hweight_long(unsigned long w)
{
	return (unsigned int)__builtin_popcountl(w);
}

#endif /* _PYM_ENV_USER_H */
