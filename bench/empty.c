/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An empty shared library for bench-agent: preloading it measures what the
 * dynamic loader and the machine charge for any preloaded library, the floor
 * under the agent's start cost.
 */
int mplace_bench_empty(void);
__attribute__((visibility("default"))) int mplace_bench_empty(void)
{
	return 0;
}
