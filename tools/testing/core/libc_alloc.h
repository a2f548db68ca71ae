/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libc_alloc.h - glibc's own allocation entry points, which it exports
 * for a malloc put in front of it (preload.c) to fall back on.
 */
#ifndef _LIBC_ALLOC_H
#define _LIBC_ALLOC_H

#include <stddef.h>

void *__libc_malloc(size_t size);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t size);
void *__libc_memalign(size_t align, size_t size);
void __libc_free(void *p);

#endif /* _LIBC_ALLOC_H */
