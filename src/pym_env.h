/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pym_env.h - everything the allocator core takes from its environment.
 *
 * The core (core.c, stats.c) includes nothing else, so that the very same
 * object code logic builds in the kernel and in user space, where it runs
 * under ASan/UBSan, fuzzers and callgrind (tools/testing/ builds it that way,
 * like the kernel's own tools/testing/vma). Keep this header small: a
 * dependency added here is a dependency of both builds.
 */
#ifndef _PYM_ENV_H
#define _PYM_ENV_H

#ifdef __KERNEL__

#include <linux/bitops.h>
#include <linux/bug.h>
#include <linux/compiler.h>
#include <linux/kernel.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/types.h>

#define PYM_PAGE_SHIFT		PAGE_SHIFT

#else /* user space */

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef unsigned long long u64;	/* as in the kernel, for %llu */

#define PYM_PAGE_SHIFT		12
#define BITS_PER_LONG		(CHAR_BIT * (int)sizeof(long))
#define likely(x)		__builtin_expect(!!(x), 1)
#define unlikely(x)		__builtin_expect(!!(x), 0)
#ifndef __always_inline
#define __always_inline		inline __attribute__((__always_inline__))
#endif
#define __printf(a, b)		__attribute__((__format__(printf, a, b)))
#define BUILD_BUG_ON(c)		_Static_assert(!(c), #c)
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#define READ_ONCE(x)		(*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v)	(*(volatile __typeof__(x) *)&(x) = (v))

static inline void __set_bit(unsigned int nr, unsigned long *map)
{
	map[nr / BITS_PER_LONG] |= 1UL << (nr % BITS_PER_LONG);
}

static inline void __clear_bit(unsigned int nr, unsigned long *map)
{
	map[nr / BITS_PER_LONG] &= ~(1UL << (nr % BITS_PER_LONG));
}

static inline bool test_bit(unsigned int nr, const unsigned long *map)
{
	return (map[nr / BITS_PER_LONG] >> (nr % BITS_PER_LONG)) & 1;
}

static inline unsigned int hweight_long(unsigned long w)
{
	return (unsigned int)__builtin_popcountl(w);
}

#endif /* __KERNEL__ */

#endif /* _PYM_ENV_H */
