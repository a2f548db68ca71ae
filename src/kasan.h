/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kasan.h - generic KASAN inside the arenas (kasan.c); no-ops without
 * CONFIG_KASAN_GENERIC.
 */
#ifndef _PYM_KASAN_H
#define _PYM_KASAN_H

#include <linux/types.h>

#ifdef CONFIG_KASAN_GENERIC
void pym_kasan_alloc(const void *p, size_t size, size_t block);
void pym_kasan_free(const void *p, size_t block);
void pym_kasan_unused(const void *p, size_t size);
void pym_kasan_unpoison(const void *p, size_t size);
#else
static inline void pym_kasan_alloc(const void *p, size_t size, size_t block)
{
}

static inline void pym_kasan_free(const void *p, size_t block)
{
}

static inline void pym_kasan_unused(const void *p, size_t size)
{
}

static inline void pym_kasan_unpoison(const void *p, size_t size)
{
}
#endif

#endif /* _PYM_KASAN_H */
