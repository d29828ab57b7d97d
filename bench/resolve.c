/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How long mplace takes to compile (parse and check) a 1,000-rule
 * configuration and to fold and resolve a policy from it for one process.
 *
 * Times are medians of repeats, measured with CLOCK_MONOTONIC; the baseline,
 * measured in the same run, is one pass over the same text that only counts
 * its lines (the least any parser must do), so ratios survive a noisy machine.
 * Usage: bench-resolve [--json] [--repeats N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "basic/util.h"
#include "core/combine.h"
#include "core/config.h"

#define RULES 1000

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/* A configuration of exactly RULES rules over system, 100 cgroups (nested in
 * pairs), 299 executables and comm names: the shape of a large fleet file. */
static char *make_config(unsigned *ret_rules)
{
	static const char *const pols[] = {"interleave:all",
					   "bind:0-1 strict",
					   "prefer:1",
					   "local",
					   "prefer-many:tier:fast fallback=local",
					   "split:0,2 weights=0:3,2:1",
					   "interleave:tier:fast weights=auto order=thp"};
	unsigned rules = 0;
	struct mp_sb b;

	mp_sb_init(&b);
	mp_sb_puts(&b, "[system]\npolicy = local\nkernel = local\n");
	rules += 2;
	for (unsigned i = 0; i < 50; i++) {
		mp_sb_printf(&b, "\n[cgroup /fleet%u.slice]\nallow = 0-3\n", i);
		mp_sb_printf(&b, "\n[cgroup /fleet%u.slice/job%u.service]\npolicy = %s\n", i, i, pols[i % 7]);
		rules += 2;
	}
	while (rules + 3 <= RULES) {
		unsigned i = rules;

		mp_sb_printf(&b,
			     "\n[exe /opt/app%u/bin/*]\nheap = %s\nstack = local\nfile:/data/app%u/** = prefer:%u\n", i,
			     pols[i % 7], i, i % 4);
		rules += 3;
	}
	while (rules < RULES) {
		mp_sb_printf(&b, "\n[comm w%u]\npolicy = interleave:0-3\n", rules);
		rules++;
	}
	*ret_rules = rules;
	return mp_sb_steal(&b);
}

int main(int argc, char **argv)
{
	unsigned repeats = 201, rules = 0;
	bool json = false;
	struct mp_config_error err;
	double *t_base, *t_parse, *t_resolve;
	char *text = make_config(&rules);
	size_t len = strlen(text);
	volatile unsigned sink = 0;
	struct mp_topo *topo;
	const char *root = MPLACE_SOURCE_DIR "/tests/data/topo/2s-cxl";

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--repeats") && i + 1 < argc)
			repeats = (unsigned)strtoul(argv[++i], NULL, 10) | 1;
	}
	if (mp_topo_load(root, &topo) < 0) {
		fprintf(stderr, "bench-resolve: cannot load the 2s-cxl fixture\n");
		return 1;
	}
	t_base = calloc(repeats, sizeof(double));
	t_parse = calloc(repeats, sizeof(double));
	t_resolve = calloc(repeats, sizeof(double));
	for (unsigned r = 0; r < repeats; r++) {
		struct mp_selector sel = {
			.exe = "/opt/app500/bin/server", .cgroup = "/fleet7.slice/job7.service", .kind = MP_KIND_HEAP};
		struct mp_resolve_ctx ctx = {.topo = topo, .local_node = 0};
		struct mp_config cfg;
		struct mp_policy p;
		struct mp_trace t;
		struct mp_compiled c;
		struct mp_diag d;
		double t0, t1, t2, t3;
		unsigned lines = 0;
		int n;

		t0 = now_ns();
		for (const char *s = text; (s = memchr(s, '\n', (size_t)(text + len - s))); s++)
			lines++;
		sink += lines;
		t1 = now_ns();
		mp_config_init(&cfg);
		n = mp_config_parse(&cfg, "bench.conf", text, len, &err, 1);
		t2 = now_ns();
		if (n != 0) {
			fprintf(stderr, "bench-resolve: %u:%u: %s\n", err.line, err.col, err.msg);
			return 1;
		}
		if (mp_fold(&cfg, &sel, NULL, &p, &t) < 0 || mp_resolve(&p, &t, &ctx, &c, &d) < 0) {
			fprintf(stderr, "bench-resolve: resolution failed: %s\n", d.msg);
			return 1;
		}
		t3 = now_ns();
		sink += c.n_weights;
		mp_compiled_free(&c);
		mp_trace_free(&t);
		mp_policy_free(&p);
		mp_config_free(&cfg);
		t_base[r] = t1 - t0;
		t_parse[r] = t2 - t1;
		t_resolve[r] = t3 - t2;
	}
	{
		double base = median(t_base, repeats), parse = median(t_parse, repeats),
		       res = median(t_resolve, repeats);

		if (json)
			printf("{\"rules\": %u, \"bytes\": %zu, \"repeats\": %u, \"baseline_scan_ns\": %.0f, "
			       "\"compile_ns\": %.0f, \"fold_resolve_ns\": %.0f, \"ratios\": {\"compile_vs_scan\": %.1f, "
			       "\"fold_resolve_vs_scan\": %.2f}}\n",
			       rules, len, repeats, base, parse, res, parse / base, res / base);
		else
			printf("configuration: %u rules, %zu bytes; medians of %u repeats\n"
			       "  baseline: count the lines        %10.0f ns\n"
			       "  compile: parse and check          %10.0f ns  (%.1fx baseline)\n"
			       "  fold + resolve for one process    %10.0f ns  (%.2fx baseline)\n"
			       "  budget: resolving under 1 ms: %s\n",
			       rules, len, repeats, base, parse, parse / base, res, res / base,
			       parse + res < 1e6 ? "met" : "NOT MET");
	}
	mp_topo_free(topo);
	free(text);
	free(t_base);
	free(t_parse);
	free(t_resolve);
	return sink == 0;
}
