/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The combination algebra and resolution, tested for their laws over
 * generated policies (identity, associativity, constraints monotone, result
 * inside every allow set) and on examples, including the fold over a
 * configuration and the provenance that errors name.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "basic/util.h"
#include "check.h"
#include "core/combine.h"
#include "core/config.h"
#include "core/policy.h"
#include "core/mpol.h"

/* ---- a synthetic machine: two sockets and two CPU-less CXL nodes -------- */

static struct mp_node nodes[4];
static int cpus0[] = {0, 1}, cpus1[] = {2, 3};
static int dist[16] = {10, 21, 14, 24, 21, 10, 24, 14, 14, 24, 10, 26, 24, 14, 26, 10};
static struct mp_device devs[] = {{MP_DEV_PCI, "0000:3b:00.0", 1}, {MP_DEV_NET, "eth0", 0}};
static struct mp_topo topo;

static void make_topo(void)
{
	for (int i = 0; i < 4; i++) {
		nodes[i].id = i;
		nodes[i].has_memory = true;
		nodes[i].has_cpu = i < 2;
		nodes[i].mem_total = (i < 2 ? 16ull : 64ull) << 30;
		nodes[i].mem_free = nodes[i].mem_total / 2;
		nodes[i].read_bw = i < 2 ? 100000 : 25000;
		nodes[i].read_lat = i < 2 ? 80 : 250;
		nodes[i].tier = i < 2 ? 0 : 1;
		nodes[i].tier_id = i < 2 ? 4 : 22;
		mp_mask_set(&topo.online, (unsigned)i);
		mp_mask_set(&topo.memory, (unsigned)i);
		if (i < 2)
			mp_mask_set(&topo.cpu_nodes, (unsigned)i);
	}
	nodes[0].cpus = cpus0;
	nodes[0].n_cpus = 2;
	nodes[1].cpus = cpus1;
	nodes[1].n_cpus = 2;
	topo.n_nodes = 4;
	topo.nodes = nodes;
	topo.distance = dist;
	topo.tiers_from_sysfs = true;
	topo.n_tiers = 2;
	topo.devices = devs;
	topo.n_devices = 2;
}

static struct mp_policy P(const char *text) {
	struct mp_policy p;
	struct mp_diag d;

	if (mp_policy_parse(text, &p, &d) < 0) {
		fprintf(stderr, "cannot parse '%s': %s\n", text, d.msg);
		abort();
	}
	return p;
}

/* ---- a generator of random policy texts ------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static const char *const gen_modes[] = {
	"default", "local", "bind", "prefer", "prefer-many", "interleave", "weighted-interleave", "split"};
static const char *const gen_sets[] = {"0",
				       "1",
				       "2-3",
				       "0-3",
				       "0,2",
				       "all",
				       "!1",
				       "cpuset",
				       "local",
				       "cpu-nodes",
				       "tier:fast",
				       "tier:slow",
				       "tier:1",
				       "best:bandwidth",
				       "best:latency",
				       "best:capacity",
				       "near:pci:0000:3b:00.0",
				       "dist<=14",
				       "+0",
				       "+1",
				       "1-2,!2",
				       "7"};
static const char *const gen_opts[] = {
	"strict",   "strict=no",   "fallback=none",	"fallback=2-3", "weights=auto", "weights=0:3,1:1", "order=thp",
	"order=2M", "automigrate", "automigrate=damon", "replicate",	"replicate=no", "home=0",	   "static",
	"relative", "migrate",	   "migrate=no",	"phys<4G",	"phys=1G-8G",	"order.2M=0-1"};

static void gen_policy(char *buf, size_t size, bool constraints_only)
{
	size_t len = 0;
	unsigned k;

	buf[0] = '\0';
	if (!constraints_only && rnd(3)) {
		const char *m = gen_modes[rnd(MP_ARRAY_SIZE(gen_modes))];

		if (strcmp(m, "local") && strcmp(m, "default") && rnd(4))
			len += (size_t)snprintf(buf + len, size - len, "%s:%s", m,
						gen_sets[rnd(MP_ARRAY_SIZE(gen_sets))]);
		else
			len += (size_t)snprintf(buf + len, size - len, "%s", m);
	}
	k = rnd(4);
	for (unsigned i = 0; i < k; i++) {
		if (constraints_only || rnd(3) == 0)
			len += (size_t)snprintf(buf + len, size - len, "%sallow=%s", len ? " " : "",
						gen_sets[rnd(MP_ARRAY_SIZE(gen_sets))]);
		else
			len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? " " : "",
						gen_opts[rnd(MP_ARRAY_SIZE(gen_opts))]);
	}
}

static struct mp_policy gen(bool constraints_only)
{
	char buf[512];

	gen_policy(buf, sizeof(buf), constraints_only);
	return P(buf);
}

static struct mp_policy combined(const struct mp_policy *a, const struct mp_policy *b)
{
	struct mp_policy r;

	CHECK(mp_policy_copy(&r, a) == 0);
	CHECK(mp_policy_combine(&r, b) == 0);
	return r;
}

#define CASES 10000

static void law_identity(void)
{
	struct mp_policy e;

	mp_policy_init(&e);
	for (unsigned i = 0; i < CASES; i++) {
		struct mp_policy p = gen(false), l = combined(&e, &p), r = combined(&p, &e);

		CHECK(mp_policy_equal(&l, &p));
		CHECK(mp_policy_equal(&r, &p));
		mp_policy_free(&p);
		mp_policy_free(&l);
		mp_policy_free(&r);
	}
}

static void law_associative(void)
{
	unsigned bad = 0;

	for (unsigned i = 0; i < CASES; i++) {
		struct mp_policy a = gen(false), b = gen(false), c = gen(false);
		struct mp_policy ab = combined(&a, &b), bc = combined(&b, &c);
		struct mp_policy l = combined(&ab, &c), r = combined(&a, &bc);

		if (!mp_policy_equal(&l, &r) && bad++ < 5) {
			char *x = mp_policy_format(&l), *y = mp_policy_format(&r);

			fprintf(stderr, "not associative: '%s' vs '%s'\n", x, y);
			free(x);
			free(y);
		}
		mp_policy_free(&a);
		mp_policy_free(&b);
		mp_policy_free(&c);
		mp_policy_free(&ab);
		mp_policy_free(&bc);
		mp_policy_free(&l);
		mp_policy_free(&r);
	}
	CHECK_MSG(bad == 0, "%u of %u triples", bad, CASES);
}

/* The canonical text of a combination is a fixed point of parse and format,
 * so combined policies stay in the language. */
static void law_closed(void)
{
	for (unsigned i = 0; i < CASES / 4; i++) {
		struct mp_policy a = gen(false), b = gen(false), ab = combined(&a, &b), back;
		char *t = mp_policy_format(&ab);
		struct mp_diag d;

		CHECK(t && mp_policy_parse(t, &back, &d) == 0);
		if (t && mp_policy_equal(&back, &ab) == false)
			CHECK_MSG(0, "'%s' does not parse back to itself", t);
		free(t);
		mp_policy_free(&back);
		mp_policy_free(&a);
		mp_policy_free(&b);
		mp_policy_free(&ab);
	}
}

static int resolve(const struct mp_policy *p, const struct mp_cgroup *cg, struct mp_compiled *c)
{
	struct mp_resolve_ctx ctx = {.topo = &topo, .cgroup = cg, .local_node = 0};
	struct mp_diag d;

	return mp_resolve(p, NULL, &ctx, c, &d);
}

static void eval_allow(const char *set, struct mp_nodemask *ret)
{
	struct mp_policy p;
	struct mp_compiled c;
	char buf[128];

	snprintf(buf, sizeof(buf), "allow=%s", set);
	p = P(buf);
	CHECK(resolve(&p, NULL, &c) == 0);
	*ret = c.allowed;
	mp_compiled_free(&c);
	mp_policy_free(&p);
}

/*
 * Adding a constraint never widens the result; every node the result uses
 * lies inside every allow set of the fold, and inside the cgroup's mems.
 */
static void law_monotone(void)
{
	struct mp_cgroup cg = {.path = (char *)"/test", .has_mems = true};
	unsigned errors = 0, ok = 0;

	mp_mask_set(&cg.mems, 0);
	mp_mask_set(&cg.mems, 1);
	mp_mask_set(&cg.mems, 2);
	for (unsigned i = 0; i < CASES; i++) {
		struct mp_policy g = gen(false), s = gen(false), k = gen(true);
		struct mp_policy gs = combined(&g, &s), gk = combined(&g, &k), gks = combined(&gk, &s);
		struct mp_compiled c1, c2;
		const struct mp_cgroup *cgp = rnd(2) ? &cg : NULL;
		int r1 = resolve(&gs, cgp, &c1), r2 = resolve(&gks, cgp, &c2);

		if (r1 == 0 && r2 == 0) {
			ok++;
			CHECK(mp_mask_subset(&c2.allowed, &c1.allowed));
			if (cgp)
				CHECK(mp_mask_subset(&c1.allowed, &cg.mems));
		}
		if (r2 == 0) {
			/* inside every allow set of the fold */
			for (unsigned a = 0; a < gks.n_allow; a++) {
				char *t = mp_nodeset_format(&gks.allow[a]);
				struct mp_nodemask m;

				eval_allow(t, &m);
				CHECK_MSG(mp_mask_subset(&c2.allowed, &m), "allowed not inside allow=%s", t);
				free(t);
			}
			CHECK(mp_mask_subset(&c2.nodes, &c2.allowed));
			for (unsigned f = 0; f < c2.n_fallback; f++)
				CHECK(mp_mask_test(&c2.allowed, (unsigned)c2.fallback[f]));
			if (cgp)
				CHECK(mp_mask_subset(&c2.nodes, &cg.mems));
		} else {
			/* a strict policy fails with a reason; a non-strict one only
			 * when the constraints leave no node at all */
			if (gks.strict == MP_YES)
				CHECK_MSG(r2 == -ENOENT || r2 == -EXDEV, "strict failure %d", r2);
			else
				CHECK_MSG(r2 == -EXDEV, "non-strict failure %d", r2);
			errors++;
		}
		if (r1 == 0)
			mp_compiled_free(&c1);
		if (r2 == 0)
			mp_compiled_free(&c2);
		mp_policy_free(&g);
		mp_policy_free(&s);
		mp_policy_free(&k);
		mp_policy_free(&gs);
		mp_policy_free(&gk);
		mp_policy_free(&gks);
	}
	/* the generator must exercise both outcomes, or the law is tested on nothing */
	CHECK_MSG(ok > CASES / 4 && errors > 0, "ok %u, errors %u", ok, errors);
}

/* ---- examples ---------------------------------------------------------- */

static void check_resolve(const char *text, int want_ret, const char *want_nodes, const char *want_weights)
{
	struct mp_policy p = P(text);
	struct mp_compiled c;
	char buf[128];
	int r = resolve(&p, NULL, &c);

	CHECK_MSG(r == want_ret, "'%s': %d", text, r);
	if (r == 0) {
		mp_mask_format(&c.nodes, buf, sizeof(buf));
		CHECK_MSG(!strcmp(buf, want_nodes), "'%s': nodes '%s', want '%s'", text, buf, want_nodes);
		if (want_weights) {
			struct mp_sb b;

			mp_sb_init(&b);
			for (unsigned i = 0; i < c.n_weights; i++)
				mp_sb_printf(&b, "%s%d:%u", i ? "," : "", c.weight_node[i], c.weight[i]);
			CHECK_MSG(b.s && !strcmp(b.s, want_weights), "'%s': weights '%s', want '%s'", text,
				  b.s ? b.s : "", want_weights);
			mp_sb_free(&b);
		}
		mp_compiled_free(&c);
	}
	mp_policy_free(&p);
}

static void examples(void)
{
	check_resolve("bind:0-1", 0, "0-1", NULL);
	check_resolve("bind:5 strict", -ENOENT, "", NULL);
	check_resolve("bind:5", 0, "0", NULL); /* falls back to the local node, with a warning */
	check_resolve("interleave:tier:fast weights=auto", 0, "0-1", "0:1,1:1");
	check_resolve("interleave:all weights=auto", 0, "0-3", "0:4,1:4,2:1,3:1");
	check_resolve("split:0,2 weights=0:3,2:1", 0, "0,2", "0:3,2:1");
	check_resolve("prefer:tier:slow", 0, "2", NULL); /* one node: the nearest to node 0 */
	check_resolve("prefer-many:best:bandwidth", 0, "0-1", NULL);
	check_resolve("bind:best:latency", 0, "0-1", NULL);
	check_resolve("bind:best:capacity", 0, "2-3", NULL);
	check_resolve("bind:near:pci:0000:3b:00.0", 0, "1", NULL);
	check_resolve("bind:near:net:nope strict", -ENOENT, "", NULL);
	check_resolve("bind:dist<=14", 0, "0,2", NULL);
	check_resolve("bind:0-3 allow=0-1", 0, "0-1", NULL);
	check_resolve("bind:2 allow=0-1 strict", -EXDEV, "", NULL);
	check_resolve("local allow=1", 0, "1", NULL); /* becomes bind inside the allow set */
	check_resolve("gfp:thisnode", 0, "0", NULL);
	check_resolve("allow=0 allow=1", -EXDEV, "", NULL); /* no node is left: an error even without strict */
}

static void split_plan(void)
{
	struct mp_policy p = P("split:0,2 weights=0:3,2:1");
	struct mp_compiled c;
	int node[8];
	uint64_t len[8];
	unsigned n;

	CHECK(resolve(&p, NULL, &c) == 0);
	n = mp_compiled_split(&c, 4 << 20, 4096, node, len, 8);
	CHECK(n == 2 && node[0] == 0 && node[1] == 2);
	CHECK(len[0] == 3 << 20 && len[1] == 1 << 20);
	n = mp_compiled_split(&c, 4096 * 5 + 100, 4096, node, len, 8);
	CHECK(n == 2 && len[0] + len[1] == 4096 * 5 + 100);
	mp_compiled_free(&c);
	mp_policy_free(&p);
}

/* The fold over a configuration: order of scopes, kinds inside a scope,
 * and the provenance that names the scope behind an error. */
static void fold_config(void)
{
	static const char conf[] = "[system]\n"
				   "policy = local\n"
				   "heap = interleave:all\n"
				   "\n"
				   "[exe /usr/bin/postgres]\n"
				   "heap = bind:0\n"
				   "policy = prefer:1\n"
				   "\n"
				   "[cgroup /db.slice]\n"
				   "allow = 0-1\n"
				   "\n"
				   "[cgroup /db.slice/inner.service]\n"
				   "policy = interleave:0-3\n";
	struct mp_config_error errs[4];
	struct mp_selector sel = {
		.exe = "/usr/bin/postgres", .cgroup = "/db.slice/inner.service", .kind = MP_KIND_HEAP};
	struct mp_resolve_ctx ctx = {.topo = &topo, .local_node = 0};
	struct mp_config cfg;
	struct mp_policy folded, expr;
	struct mp_trace t;
	struct mp_compiled c;
	struct mp_diag d;
	char *text;

	mp_config_init(&cfg);
	CHECK(mp_config_parse(&cfg, "test.conf", conf, strlen(conf), errs, 4) == 0);
	CHECK(mp_fold(&cfg, &sel, NULL, &folded, &t) == 0);
	text = mp_policy_format(&folded);
	/* system policy, system heap, outer cgroup, inner cgroup, exe policy, exe heap */
	CHECK_STR(text, "bind:0 allow=0-1");
	CHECK(t.n == 6);
	if (t.n == 6) {
		CHECK_STR(t.steps[0].scope, "system");
		CHECK_STR(t.steps[1].key, "heap");
		CHECK_STR(t.steps[2].scope, "cgroup /db.slice");
		CHECK_STR(t.steps[3].scope, "cgroup /db.slice/inner.service");
		CHECK_STR(t.steps[5].origin, "test.conf:6:8");
		CHECK(t.field_step[MP_FIELD_MODE] == 5 && t.allow_step[0] == 2);
	}
	free(text);
	mp_policy_free(&folded);
	mp_trace_free(&t);

	/* a strict command line that the cgroup's allow refuses names the cgroup scope */
	expr = P("bind:2 strict");
	CHECK(mp_fold(&cfg, &sel, &expr, &folded, &t) == 0);
	memset(&d, 0, sizeof(d));
	CHECK(mp_resolve(&folded, &t, &ctx, &c, &d) == -EXDEV);
	CHECK_MSG(strstr(d.msg, "node 2") && strstr(d.msg, "cgroup /db.slice") && strstr(d.msg, "test.conf:10:9"), "%s",
		  d.msg);
	mp_policy_free(&expr);
	mp_policy_free(&folded);
	mp_trace_free(&t);

	/* another process: only the system and cgroup scopes apply */
	sel.exe = "/usr/bin/other";
	sel.kind = MP_KIND_STACK;
	CHECK(mp_fold(&cfg, &sel, NULL, &folded, &t) == 0);
	text = mp_policy_format(&folded);
	CHECK_STR(text, "interleave:0-3 allow=0-1");
	free(text);
	CHECK(mp_resolve(&folded, &t, &ctx, &c, &d) == 0);
	CHECK(mp_mask_weight(&c.nodes) == 2 && c.trace.n > t.n);
	mp_compiled_free(&c);
	mp_policy_free(&folded);
	mp_trace_free(&t);
	mp_config_free(&cfg);
}

int main(void)
{
	make_topo();
	examples();
	split_plan();
	fold_config();
	law_identity();
	law_associative();
	law_closed();
	law_monotone();
	return check_status();
}
