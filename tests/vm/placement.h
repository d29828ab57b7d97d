/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * Where pages are, asked of the kernel page by page (move_pages with no
 * target nodes), for the VM tests.  Never counters: numastat and meminfo
 * move with everything else the guest does; a page's node does not.
 *
 * The expect_* helpers print what they found on failure (this is test code)
 * and return 0 when the expectation holds, 1 when it does not, or a negative
 * errno when the pages could not be asked about at all.
 */
#include <stddef.h>
#include <stdint.h>

#include "basic/nodemask.h"

/* Node N's MemFree in bytes, read from its meminfo by the tests themselves
 * (not through the library they test); 0 when it cannot be read. */
uint64_t vm_node_free(int node);

/* ret_nodes[i] = node of page i of [addr, addr + len) in page_size steps, or
 * -errno for that page (-ENOENT: not present).  Returns 0 or -errno. */
int vm_page_nodes(void *addr, size_t len, size_t page_size, int *ret_nodes);

/* Every page of the range is present and on a node of allowed. */
int vm_expect_on(const char *what, void *addr, size_t len, size_t page_size, const struct mp_nodemask *allowed);

/*
 * The pages are split over nodes[0..n) in the ratio weights[0..n) within
 * tolerance (a fraction of the range's pages, e.g. 0.05): each node's page
 * count is within tolerance * pages of its share, and no page is elsewhere.
 */
int vm_expect_ratio(const char *what, void *addr, size_t len, size_t page_size, const int *nodes,
		    const unsigned *weights, unsigned n, double tolerance);

/*
 * The pages follow the weighted round-robin exactly: runs of weights[i]
 * pages on nodes[i], in this order, starting anywhere in the cycle (the
 * kernel's offset-based interleave of a VMA policy).
 */
int vm_expect_cycle(const char *what, void *addr, size_t len, size_t page_size, const int *nodes,
		    const unsigned *weights, unsigned n);
