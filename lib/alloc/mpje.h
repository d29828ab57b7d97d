/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * mplace's own jemalloc: Debian's archive linked in with its entry points
 * renamed mpje_* (scripts/jemalloc-private, doc/allocator.md).  Including
 * this header instead of <jemalloc/jemalloc.h> sends the non-standard API
 * (mallocx, dallocx, mallctl, ...) to that copy.
 *
 * malloc, free and the other standard names are deliberately NOT redirected:
 * the library's own bookkeeping, and anything it frees that libc allocated
 * (getline, strdup), stay with the process's malloc.  The private copy's
 * malloc and free are reached by their mpje_ names, only by the allocator's
 * fast paths (lib/alloc/alloc.h), which rely on nothing else in the process using
 * this copy's automatic thread caches.
 */
#include <stddef.h>

#include <jemalloc/jemalloc.h>

#define mallocx		 mpje_mallocx
#define rallocx		 mpje_rallocx
#define xallocx		 mpje_xallocx
#define sallocx		 mpje_sallocx
#define dallocx		 mpje_dallocx
#define sdallocx	 mpje_sdallocx
#define nallocx		 mpje_nallocx
#define mallctl		 mpje_mallctl
#define mallctlnametomib mpje_mallctlnametomib
#define mallctlbymib	 mpje_mallctlbymib

void *mpje_mallocx(size_t size, int flags);
void *mpje_rallocx(void *ptr, size_t size, int flags);
size_t mpje_xallocx(void *ptr, size_t size, size_t extra, int flags);
size_t mpje_sallocx(const void *ptr, int flags);
void mpje_dallocx(void *ptr, int flags);
void mpje_sdallocx(void *ptr, size_t size, int flags);
size_t mpje_nallocx(size_t size, int flags);
int mpje_mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);
int mpje_mallctlnametomib(const char *name, size_t *mibp, size_t *miblenp);
int mpje_mallctlbymib(const size_t *mib, size_t miblen, void *oldp, size_t *oldlenp, void *newp, size_t newlen);
void *mpje_malloc(size_t size);
void *mpje_calloc(size_t n, size_t size);
void *mpje_realloc(void *ptr, size_t size);
void mpje_free(void *ptr);
