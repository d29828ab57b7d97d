/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The policy language: canonical output of valid texts in every input form,
 * error positions and messages of invalid ones, outputs untouched after
 * errors, and a generated-text property test of the round trip
 * format(parse(x)) = fixed point, parse(format(p)) = p.
 */
#include <errno.h>
#include <stdint.h>

#include "basic/util.h"
#include "check.h"
#include "core/policy.h"

struct valid {
	const char *in, *out;
};

static const struct valid valid_cases[] = {
	/* empty */
	{"", ""},
	{"   \t ", ""},
	/* modes and aliases */
	{"default", "default"},
	{"local", "local"},
	{"localalloc", "local"},
	{"bind:0-1", "bind:0-1"},
	{"membind:0-1", "bind:0-1"},
	{"prefer:1", "prefer:1"},
	{"preferred:1", "prefer:1"},
	{"prefer-many:0-1", "prefer-many:0-1"},
	{"preferred-many:0,1", "prefer-many:0-1"},
	{"interleave", "interleave"},
	{"interleave:all", "interleave:all"},
	{"weighted-interleave:0-3", "weighted-interleave:0-3"},
	{"weighted:0-3", "weighted-interleave:0-3"},
	{"split:0,2 weights=0:3,2:1", "split:0,2 weights=0:3,2:1"},
	{"  bind:0   strict  ", "bind:0 strict"},
	{"bind:0\tstrict", "bind:0 strict"},
	/* node sets: merging, order, dedup */
	{"bind:3,1,2", "bind:1-3"},
	{"bind:0-3,7", "bind:0-3,7"},
	{"bind:7,0-3", "bind:0-3,7"},
	{"bind:0-3,!2", "bind:0-3,!2"},
	{"bind:!2,0-3", "bind:0-3,!2"},
	{"bind:!2,!3,!5", "bind:!2-3,!5"},
	{"bind:local,0,local,1", "bind:0-1,local"},
	{"bind:cpu-nodes,!tier:slow,all", "bind:cpu-nodes,all,!tier:slow"},
	{"interleave:gpu-nodes,all,gpu-nodes", "interleave:gpu-nodes,all"},
	{"bind:!gpu-nodes,0-255", "bind:0-255,!gpu-nodes"},
	{"bind:+0-1", "bind:+0-1"},
	{"bind:+1,+0,3,+5", "bind:3,+0-1,+5"},
	{"bind:!+0,+1", "bind:+1,!+0"},
	{"bind:tier:fast,tier:slow,tier:2,tier:fast", "bind:tier:fast,tier:slow,tier:2"},
	{"bind:best:bandwidth,best:latency,best:capacity", "bind:best:bandwidth,best:latency,best:capacity"},
	{"bind:near", "bind:near"},
	{"bind:near:pci:0000:3b:00.0", "bind:near:pci:0000:3b:00.0"},
	{"bind:near:net:eth0,near:block:nvme0n1", "bind:near:net:eth0,near:block:nvme0n1"},
	{"bind:dist<=20", "bind:dist<=20"},
	{"bind:cpuset,!local", "bind:cpuset,!local"},
	{"bind:1023", "bind:1023"},
	{"bind:0,!0", "bind:0,!0"},
	/* options */
	{"nodes=0-1", "nodes=0-1"},
	{"bind nodes=0-1", "bind:0-1"},
	{"bind:0 nodes=1", "bind:1"},
	/* local and default keep an inherited node set for a later scope's mode */
	{"local nodes=0", "local nodes=0"},
	{"default nodes=!1", "default nodes=!1"},
	{"allow=0-1 allow=1-2 allow=0-1", "allow=0-1 allow=1-2"},
	{"allow=1,0", "allow=0-1"},
	{"phys<4G", "phys<4G"},
	{"phys<4096", "phys<4K"},
	{"phys=0-16M", "phys<16M"},
	{"phys=1M-4G", "phys=1M-4G"},
	{"phys<4G phys<16M", "phys<16M"},
	{"order.2M=0-1", "order.2M=0-1"},
	{"order.1G=1 order.4K=0 order.thp=2 order.64K=3", "order.thp=2 order.4K=0 order.64K=3 order.1G=1"},
	{"order.2M=0 order.2M=1 order.2M=0", "order.2M=0 order.2M=1"},
	{"strict", "strict"},
	{"strict=yes", "strict"},
	{"strict=no", "strict=no"},
	{"strict strict=no", "strict=no"},
	{"fallback=local", "fallback=local"},
	{"fallback=none", "fallback=none"},
	{"fallback=0 fallback=none", "fallback=none"},
	{"weights=auto", "weights=auto"},
	{"weights=3:1,1:2,2:255", "weights=1:2,2:255,3:1"},
	{"weights=0:1 weights=auto", "weights=auto"},
	{"order=4K", "order=4K"},
	{"order=4096", "order=4K"},
	{"order=2M", "order=2M"},
	{"order=1G", "order=1G"},
	{"order=thp", "order=thp"},
	{"order=64KiB", "order=64K"},
	{"automigrate", "automigrate"},
	{"automigrate=auto", "automigrate"},
	{"automigrate=balancing", "automigrate=balancing"},
	{"automigrate=damon", "automigrate=damon"},
	{"automigrate=touch", "automigrate=touch"},
	{"automigrate=off", "automigrate=off"},
	{"replicate", "replicate"},
	{"replicate=no", "replicate=no"},
	{"home=3", "home=3"},
	{"static", "static"},
	{"relative", "relative"},
	{"static relative", "relative"},
	{"nodeflags=none", "nodeflags=none"},
	{"nodeflags=static", "static"},
	{"migrate", "migrate"},
	{"migrate=no", "migrate=no"},
	/* fixed option order */
	{"migrate relative home=1 replicate automigrate order=2M weights=auto fallback=none strict order.1G=0 "
	 "phys<4G allow=0 interleave",
	 NULL},
	{"migrate relative home=1 replicate automigrate order=2M weights=auto fallback=none strict order.1G=0 "
	 "phys<4G allow=0",
	 "allow=0 phys<4G order.1G=0 strict fallback=none weights=auto order=2M automigrate replicate home=1 "
	 "relative migrate"},
	/* presets */
	{"gfp:thisnode", "bind:local strict"},
	{"gfp:dma", "phys<16M strict"},
	{"gfp:dma32", "phys<4G strict"},
	{"gfp:hardwall", "allow=cpuset strict"},
	{"hbw", "bind:best:bandwidth strict"},
	{"hbw-preferred", "prefer:best:bandwidth"},
	{"capacity", "bind:best:capacity"},
	{"latency", "bind:best:latency"},
	{"gfp:dma32 strict=no", "phys<4G strict=no"},
	{"interleave:0-3 gfp:thisnode", "bind:local strict"},
	{"hbw interleave", NULL},
	{"gfp:hardwall allow=0-1", "allow=cpuset allow=0-1 strict"},
	{"nodes=0 capacity", "bind:best:capacity"},
	/* numactl */
	{"--membind=0-1", "bind:0-1"},
	{"--membind 0-1", "bind:0-1"},
	{"-m 0-1", "bind:0-1"},
	{"-m0-1", "bind:0-1"},
	{"--interleave=all", "interleave:all"},
	{"-i 0,2", "interleave:0,2"},
	{"--preferred=1", "prefer:1"},
	{"-p 1", "prefer:1"},
	{"--preferred-many=0-1", "prefer-many:0-1"},
	{"-P 0-1", "prefer-many:0-1"},
	{"--weighted-interleave=0-3", "weighted-interleave:0-3"},
	{"-w 0-3", "weighted-interleave:0-3"},
	{"--localalloc", "local"},
	{"-l", "local"},
	{"--membind=0 --balancing", "bind:0 automigrate=balancing"},
	{"-b -m 0", "bind:0 automigrate=balancing"},
	{"--interleave=!0-1,3", "interleave:!0-1,!3"},
	{"--interleave=+0-1", "interleave:+0-1"},
	{"--interleave=!+0", "interleave:!+0"},
	{"--membind=netdev:eth0", "bind:near:net:eth0"},
	{"--membind=pci:0000:3b:00.0", "bind:near:pci:0000:3b:00.0"},
	{"--membind=block:sda", "bind:near:block:sda"},
	{"-m 0 -i 1", "interleave:1"},
	/* tmpfs mpol= */
	{"mpol=default", "default"},
	{"mpol=local", "local"},
	{"mpol=prefer:1", "prefer:1"},
	{"mpol=prefer", "local"},
	{"mpol=bind:0-1", "bind:0-1"},
	{"mpol=interleave", "interleave:all"},
	{"mpol=interleave:0-3", "interleave:0-3"},
	{"mpol=interleave=static:0-3", "interleave:0-3 static"},
	{"interleave=static:0-3", "interleave:0-3 static"},
	{"bind=relative:0-1", "bind:0-1 relative"},
	/* systemd */
	{"NUMAPolicy=bind NUMAMask=0-1", "bind:0-1"},
	{"NUMAPolicy=bind\nNUMAMask=0-1\n", "bind:0-1"},
	{"NUMAMask=all NUMAPolicy=interleave", "interleave:all"},
	{"NUMAPolicy=preferred NUMAMask=2", "prefer:2"},
	{"NUMAPolicy=local", "local"},
	{"NUMAPolicy=local NUMAMask=0", "local"},
	{"NUMAPolicy=default", "default"},
	{"NUMAMask=1", "nodes=1"},
	{"NUMAPolicy=bind NUMAPolicy=interleave NUMAMask=0", "interleave:0"},
	/* OCI */
	{"{\"mode\":\"MPOL_BIND\",\"nodes\":\"0-1\"}", "bind:0-1"},
	{"{\"mode\":\"MPOL_BIND\",\"nodes\":\"0-1\",\"flags\":[\"MPOL_F_STATIC_NODES\"]}", "bind:0-1 static"},
	{" { \"mode\" : \"MPOL_INTERLEAVE\", \"nodes\": \"0,2\", \"flags\": [\"MPOL_F_RELATIVE_NODES\"] } ",
	 "interleave:0,2 relative"},
	{"{\"mode\":\"MPOL_PREFERRED\",\"nodes\":\"1\"}", "prefer:1"},
	{"{\"mode\":\"MPOL_PREFERRED_MANY\",\"nodes\":\"0-1\"}", "prefer-many:0-1"},
	{"{\"mode\":\"MPOL_WEIGHTED_INTERLEAVE\",\"nodes\":\"0-3\"}", "weighted-interleave:0-3"},
	{"{\"mode\":\"MPOL_DEFAULT\"}", "default"},
	{"{\"mode\":\"MPOL_LOCAL\"}", "local"},
	{"{\"mode\":\"MPOL_BIND\",\"nodes\":\"0\",\"flags\":[\"MPOL_F_NUMA_BALANCING\"]}",
	 "bind:0 automigrate=balancing"},
};

static void test_valid(void)
{
	for (size_t i = 0; i < MP_ARRAY_SIZE(valid_cases); i++) {
		const struct valid *c = &valid_cases[i];
		struct mp_policy p, q, cp;
		struct mp_diag d = {0};
		char *s, *s2;
		int r;

		r = mp_policy_parse(c->in, &p, &d);
		if (!c->out) {
			/* a mode after the first word is an error */
			CHECK_MSG(r == -EINVAL, "'%s' parsed", c->in);
			continue;
		}
		CHECK_MSG(r == 0, "'%s': %s (at %u; %s)", c->in, d.msg, d.pos, d.hint);
		if (r < 0)
			continue;
		s = mp_policy_format(&p);
		CHECK_STR(s, c->out);
		CHECK(mp_policy_is_empty(&p) == (c->out[0] == '\0'));
		r = mp_policy_parse(s, &q, &d);
		CHECK_MSG(r == 0, "reparse '%s': %s", s, d.msg);
		if (r == 0) {
			CHECK_MSG(mp_policy_equal(&p, &q), "'%s' not equal after round trip", c->in);
			s2 = mp_policy_format(&q);
			CHECK_STR(s2, s);
			free(s2);
			mp_policy_free(&q);
		}
		CHECK(mp_policy_copy(&cp, &p) == 0);
		CHECK(mp_policy_equal(&cp, &p));
		mp_policy_free(&cp);
		mp_policy_free(&p);
		CHECK(mp_policy_is_empty(&p));
		free(s);
	}
}

/* Explicit forms: the same text read as each form. */
static void test_forms_explicit(void)
{
	static const struct {
		enum mp_form form;
		const char *in, *out;
		int ret;
	} cases[] = {
		{MP_FORM_MPLACE, "bind:0", "bind:0", 0},
		{MP_FORM_NUMACTL, "-m 0", "bind:0", 0},
		{MP_FORM_MPOL, "bind:0", "bind:0", 0},
		{MP_FORM_MPOL, "interleave=static:0", "interleave:0 static", 0},
		{MP_FORM_SYSTEMD, "NUMAPolicy=local", "local", 0},
		{MP_FORM_OCI, "{\"mode\":\"MPOL_LOCAL\"}", "local", 0},
		{MP_FORM_MPLACE, "-m 0", NULL, -EINVAL},
		{MP_FORM_NUMACTL, "bind:0", NULL, -EINVAL},
		{MP_FORM_SYSTEMD, "bind:0", NULL, -EINVAL},
		{MP_FORM_OCI, "bind:0", NULL, -EINVAL},
		{MP_FORM_OCI, "[1]", NULL, -EINVAL},
		{MP_FORM_OCI, "", NULL, -EINVAL},
		{MP_FORM_MPOL, "bind:0 strict", NULL, -EINVAL},
		{MP_FORM_NUMACTL, "", "", 0},
		{MP_FORM_SYSTEMD, "", "", 0},
		{(enum mp_form)42, "bind:0", NULL, -EINVAL},
	};

	for (size_t i = 0; i < MP_ARRAY_SIZE(cases); i++) {
		struct mp_policy p;
		struct mp_diag d = {0};
		int r = mp_policy_parse_as(cases[i].form, cases[i].in, &p, &d);

		CHECK_MSG(r == cases[i].ret, "form %d '%s': %d %s", cases[i].form, cases[i].in, r, d.msg);
		if (r == 0) {
			char *s = mp_policy_format(&p);

			CHECK_STR(s, cases[i].out);
			free(s);
			mp_policy_free(&p);
		} else {
			CHECK(d.msg[0] != '\0');
		}
	}
}

struct invalid {
	const char *in;
	unsigned pos;
	const char *msg;
};

static const struct invalid invalid_cases[] = {
	{"bnid:0", 0, "unknown mode 'bnid'"},
	{"bind:0 strictt", 7, "unknown option 'strictt'"},
	{"local:0", 5, "takes no node set"},
	{"default:0", 7, "takes no node set"},
	{"localalloc:0", 10, "takes no node set"},
	{"bind:", 5, "empty node set"},
	{"bind:0,,1", 7, "empty node-set term"},
	{"bind:0,", 7, "ends with ','"},
	{"bind:,0", 5, "empty node-set term"},
	{"bind:!", 6, "nothing after '!'"},
	{"bind:1024", 5, "out of range"},
	{"bind:0-2000", 7, "out of range"},
	{"bind:3-1", 8, "bad node list"},
	{"bind:0-", 7, "bad node list"},
	{"bind:0-1x", 8, "bad node list"},
	{"bind:+", 6, "'+' needs"},
	{"bind:tier:medium", 10, "bad memory tier"},
	{"bind:tier:256", 10, "bad memory tier"},
	{"bind:best:speed", 10, "unknown 'best:' criterion"},
	{"bind:near:usb:x", 10, "unknown device type"},
	{"bind:near:pci:", 14, "missing device name"},
	{"bind:dist<=", 11, "bad distance"},
	{"bind:dist<=256", 11, "bad distance"},
	{"bind:loca", 5, "unknown node-set term 'loca'"},
	{"bind:0 interleave:1", 7, "must be the first word"},
	{"bind:0 hbw:1", 7, "unknown option"},
	{"hbw:0", 3, "preset 'hbw' takes no node set"},
	{"allow=", 5, "needs a value"},
	{"bind:0 allow=x", 13, "unknown node-set term 'x'"},
	{"nodes=", 5, "needs a value"},
	{"phys<", 0, "unknown option"},
	{"phys<0", 5, "bad size"},
	{"phys<4X", 5, "bad size"},
	{"phys=4G", 5, "not a range"},
	{"phys=4G-1G", 5, "empty physical range"},
	{"phys=4G-4G", 5, "empty physical range"},
	{"phys=x-4G", 5, "bad size"},
	{"phys=1G-y", 8, "bad size"},
	{"order.3K=0", 6, "bad page size"},
	{"order.2K=0", 6, "bad page size"},
	{"order.2M", 8, "needs a value"},
	{"order.2M=", 8, "needs a value"},
	{"order.2M=,", 9, "empty node-set term"},
	{"strict=maybe", 7, "bad value 'maybe'"},
	{"fallback=", 8, "needs a value"},
	{"fallback=nothing", 9, "unknown node-set term"},
	{"weights=", 7, "needs a value"},
	{"weights=0", 8, "not NODE:WEIGHT"},
	{"weights=0:0", 10, "bad weight"},
	{"weights=0:256", 10, "bad weight"},
	{"weights=0:1,0:2", 12, "node 0 has two weights"},
	{"weights=x:1", 8, "bad node"},
	{"weights=0:1,", 12, "not NODE:WEIGHT"},
	{"order=3M", 6, "bad page size"},
	{"order=2K", 6, "bad page size"},
	{"order=huge", 6, "bad page size"},
	{"automigrate=sometimes", 12, "unknown automigrate mechanism"},
	{"replicate=2", 10, "bad value"},
	{"migrate=yes!", 8, "bad value"},
	{"home=1024", 5, "bad node"},
	{"home=-1", 5, "bad node"},
	{"static=yes", 6, "takes no value"},
	{"relative=1", 8, "takes no value"},
	{"nodeflags=other", 10, "bad node flags"},
	{"bind:0 frobnicate", 7, "unknown option 'frobnicate'"},
	/* numactl */
	{"-N 0", 0, "binds CPUs"},
	{"--cpunodebind=0", 0, "binds CPUs"},
	{"-C 0-3", 0, "binds CPUs"},
	{"--physcpubind=0", 0, "binds CPUs"},
	{"--membind=0 ls", 12, "not a numactl memory option"},
	{"--membind=0 -- ls", 12, "runs a command"},
	{"--frob", 0, "unknown numactl option"},
	{"-m", 0, "needs a node list"},
	{"--membind=", 10, "empty node string"},
	{"--membind=0-x", 12, "bad node string"},
	{"--preferred=0-1", 12, "bad node"},
	{"-l 0", 3, "not a numactl memory option"},
	{"--localalloc=1", 0, "takes no value"},
	{"--membind=file:/x", 10, "bad node string"},
	{"--hardware", 0, "not a memory policy"},
	/* mpol */
	{"mpol=often", 5, "unknown tmpfs mode"},
	{"mpol=bind", 9, "needs a node list"},
	{"mpol=bind:", 10, "bad node list"},
	{"mpol=bind=sometimes:0", 10, "unknown mode flag"},
	{"mpol=local:0", 10, "takes no node list"},
	{"mpol=local=static", 11, "takes no flags"},
	{"mpol=prefer:0-1", 12, "takes one node"},
	{"mpol=interleave=static", 22, "needs a node list"},
	{"mpol=bind:0 x", 11, "one word"},
	/* systemd */
	{"NUMAPolicy=sometimes", 11, "unknown NUMAPolicy= value"},
	{"NUMAPolicy=bind NUMAMask=x", 25, "bad NUMAMask="},
	{"NUMAPolicy=bind NUMAMask=", 25, "bad NUMAMask="},
	{"NUMAPolicy=bind CPUAffinity=1", 16, "not a NUMAPolicy="},
	/* OCI */
	{"{\"mode\":\"MPOL_BND\"}", 9, "unknown mode 'MPOL_BND'"},
	{"{\"mode\":\"MPOL_BIND\"}", 1, "needs \"nodes\""},
	{"{\"nodes\":\"0\"}", 0, "\"mode\" must be a string"},
	{"{\"mode\":1}", 1, "\"mode\" must be a string"},
	{"{\"mode\":\"MPOL_LOCAL\",\"nodes\":\"0\"}", 21, "takes no nodes"},
	{"{\"mode\":\"MPOL_BIND\",\"nodes\":\"x\"}", 29, "bad nodes 'x'"},
	{"{\"mode\":\"MPOL_BIND\",\"nodes\":3}", 20, "\"nodes\" must be a string"},
	{"{\"mode\":\"MPOL_BIND\",\"nodes\":\"0\",\"flags\":[\"MPOL_F_X\"]}", 42, "unknown flag 'MPOL_F_X'"},
	{"{\"mode\":\"MPOL_BIND\",\"nodes\":\"0\",\"flags\":\"x\"}", 32, "must be an array"},
	{"{\"mode\":\"MPOL_BIND\",\"nodes\":\"0\",\"flags\":[\"MPOL_F_STATIC_NODES\",\"MPOL_F_RELATIVE_NODES\"]}", 64,
	 "exclude each other"},
	{"{\"mode\":\"MPOL_BIND\",\"nodes\":\"0\",\"prio\":1}", 32, "unknown key 'prio'"},
	{"{\"mode\":\"MPOL_BIND\"", 19, "bad JSON"},
	{"{\"mode\":\"MPOL_LOCAL\"} x", 22, "text after the JSON object"},
	{"{\"mode\" \"MPOL_LOCAL\"}", 8, "bad JSON"},
	{"{\"mode\":\"MPOL_BIND\\u0000\",\"nodes\":\"0\"}", 1, "contains a NUL"},
	{"{\"mode\":\"MPOL_BIND\",\"nodes\":\"0\\u0000\"}", 20, "bad nodes"},
};

static void test_invalid(void)
{
	for (size_t i = 0; i < MP_ARRAY_SIZE(invalid_cases); i++) {
		const struct invalid *c = &invalid_cases[i];
		struct mp_policy p;
		struct mp_diag d = {.pos = 9999};
		int r;

		/* a sentinel the parser must not touch */
		memset(&p, 0xa5, sizeof(p));
		r = mp_policy_parse(c->in, &p, &d);
		CHECK_MSG(r == -EINVAL, "'%s' gave %d", c->in, r);
		if (r == 0) {
			mp_policy_free(&p);
			continue;
		}
		CHECK_MSG(d.pos == c->pos, "'%s': pos %u, want %u (%s)", c->in, d.pos, c->pos, d.msg);
		CHECK_MSG(strstr(d.msg, c->msg) != NULL, "'%s': msg '%s' lacks '%s'", c->in, d.msg, c->msg);
		CHECK_MSG(d.hint[0] != '\0', "'%s': no hint", c->in);
		for (size_t k = 0; k < sizeof(p); k++)
			if (((unsigned char *)&p)[k] != 0xa5) {
				CHECK_MSG(false, "'%s': output touched at byte %zu", c->in, k);
				break;
			}
		/* NULL diag must be fine too */
		CHECK(mp_policy_parse(c->in, &p, NULL) == -EINVAL);
	}
}

static void test_hints(void)
{
	static const struct {
		const char *in, *hint;
	} cases[] = {
		{"interleve:0", "did you mean 'interleave'?"},	{"bind:0 strct", "did you mean 'strict'?"},
		{"bind:cpuest", "did you mean 'cpuset'?"},	{"membnd", "did you mean 'membind'?"},
		{"bind:0 capacty", "did you mean 'capacity'?"}, {"-N 0", "mplace run"},
		{"bind:gpu", "did you mean 'gpu-nodes'?"},	{"bind:gpu-node", "did you mean 'gpu-nodes'?"},
	};

	for (size_t i = 0; i < MP_ARRAY_SIZE(cases); i++) {
		struct mp_policy p;
		struct mp_diag d = {0};

		CHECK(mp_policy_parse(cases[i].in, &p, &d) == -EINVAL);
		CHECK_MSG(strstr(d.hint, cases[i].hint) != NULL, "'%s': hint '%s'", cases[i].in, d.hint);
	}
}

static void test_nodeset(void)
{
	static const struct {
		const char *in, *out;
		unsigned pos;
	} cases[] = {
		{"0-3,7", "0-3,7", 0},
		{"!1,0-3,!2,local,!local", "0-3,local,!1-2,!local", 0},
		{"+2,+0", "+0,+2", 0},
		{"near:net:a=b", "near:net:a=b", 0},
		{"", NULL, 0},
		{"0 1", NULL, 1},
		{"near:net:a b", NULL, 10},
		{"all,foo", NULL, 4},
	};

	for (size_t i = 0; i < MP_ARRAY_SIZE(cases); i++) {
		struct mp_nodeset ns = {.n = 77, .terms = NULL}, cp;
		struct mp_diag d = {0};
		int r = mp_nodeset_parse(cases[i].in, strlen(cases[i].in), &ns, &d);

		if (!cases[i].out) {
			CHECK_MSG(r == -EINVAL, "'%s'", cases[i].in);
			CHECK(ns.n == 77 && ns.terms == NULL);
			CHECK_MSG(d.pos == cases[i].pos, "'%s': pos %u", cases[i].in, d.pos);
			continue;
		}
		CHECK_MSG(r == 0, "'%s': %s", cases[i].in, d.msg);
		if (r < 0)
			continue;
		{
			char *s = mp_nodeset_format(&ns);

			CHECK_STR(s, cases[i].out);
			free(s);
		}
		CHECK(mp_nodeset_copy(&cp, &ns) == 0);
		CHECK(mp_nodeset_equal(&cp, &ns));
		mp_nodeset_free(&cp);
		mp_nodeset_free(&ns);
	}
	/* a length-limited parse ignores what follows */
	{
		struct mp_nodeset ns;

		CHECK(mp_nodeset_parse("0-1 garbage", 3, &ns, NULL) == 0);
		CHECK(ns.n == 1 && mp_mask_weight(&ns.terms[0].mask) == 2);
		mp_nodeset_free(&ns);
	}
}

static void test_names(void)
{
	CHECK_STR(mp_mode_name(MP_MODE_WEIGHTED_INTERLEAVE), "weighted-interleave");
	CHECK_STR(mp_mode_name(MP_MODE_PREFER_MANY), "prefer-many");
	CHECK_STR(mp_automigrate_name(MP_AM_DAMON), "damon");
	CHECK_STR(mp_mode_name((enum mp_mode)99), "invalid");
}

/* ---- the round-trip property over generated texts ---------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	/* xorshift64*: deterministic, so a failure reproduces */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static unsigned pick(unsigned n)
{
	return (unsigned)(rnd() % n);
}

static void gen_nodeset(struct mp_sb *b)
{
	static const char *const atoms[] = {
		"all",		 "cpuset",	   "local",    "cpu-nodes",
		"tier:fast",	 "tier:slow",	   "tier:1",   "best:bandwidth",
		"best:latency",	 "best:capacity",  "near",     "near:pci:0000:3b:00.0",
		"near:net:eth0", "near:block:sda", "dist<=20", "dist<=10",
		"gpu-nodes",	 "cpu-nodes",	   "tier:0",   "dist<=30",
	};
	unsigned n = 1 + pick(4);

	for (unsigned i = 0; i < n; i++) {
		if (i)
			mp_sb_puts(b, ",");
		if (pick(4) == 0)
			mp_sb_puts(b, "!");
		switch (pick(4)) {
		case 0:
			mp_sb_printf(b, "%u", pick(8));
			break;
		case 1: {
			unsigned lo = pick(8);

			mp_sb_printf(b, "%u-%u", lo, lo + pick(4));
			break;
		}
		case 2:
			mp_sb_printf(b, "+%u", pick(4));
			break;
		default:
			mp_sb_puts(b, atoms[pick(MP_ARRAY_SIZE(atoms))]);
			break;
		}
	}
}

static void gen_option(struct mp_sb *b)
{
	static const char *const sizes[] = {"4K", "64K", "2M", "1G", "thp", "4096", "2MiB"};
	static const char *const fixed[] = {
		"strict",
		"strict=no",
		"strict=yes",
		"fallback=none",
		"weights=auto",
		"automigrate",
		"automigrate=off",
		"automigrate=damon",
		"automigrate=touch",
		"automigrate=balancing",
		"replicate",
		"replicate=no",
		"static",
		"relative",
		"nodeflags=none",
		"migrate",
		"migrate=no",
		"gfp:thisnode",
		"gfp:dma",
		"gfp:dma32",
		"gfp:hardwall",
		"hbw",
		"hbw-preferred",
		"capacity",
		"latency",
	};

	switch (pick(10)) {
	case 0:
		mp_sb_puts(b, "allow=");
		gen_nodeset(b);
		break;
	case 1:
		mp_sb_puts(b, "nodes=");
		gen_nodeset(b);
		break;
	case 2:
		if (pick(2))
			mp_sb_printf(b, "phys<%uM", 1 + pick(4096));
		else
			mp_sb_printf(b, "phys=%uM-%uG", pick(1024), 1 + pick(4));
		break;
	case 3:
		mp_sb_printf(b, "order.%s=", sizes[pick(MP_ARRAY_SIZE(sizes))]);
		gen_nodeset(b);
		break;
	case 4:
		mp_sb_puts(b, "fallback=");
		gen_nodeset(b);
		break;
	case 5: {
		unsigned n = 1 + pick(4);

		mp_sb_puts(b, "weights=");
		for (unsigned i = 0; i < n; i++)
			mp_sb_printf(b, "%s%u:%u", i ? "," : "", pick(8), 1 + pick(255));
		break;
	}
	case 6:
		mp_sb_printf(b, "order=%s", sizes[pick(MP_ARRAY_SIZE(sizes))]);
		break;
	case 7:
		mp_sb_printf(b, "home=%u", pick(8));
		break;
	default:
		mp_sb_puts(b, fixed[pick(MP_ARRAY_SIZE(fixed))]);
		break;
	}
}

static void gen_mplace(struct mp_sb *b)
{
	static const char *const modes[] = {
		"default",
		"local",
		"bind",
		"prefer",
		"prefer-many",
		"interleave",
		"weighted-interleave",
		"split",
		"membind",
		"preferred",
		"localalloc",
		"preferred-many",
		"weighted",
		"hbw",
		"gfp:thisnode",
	};
	unsigned n = pick(6);

	if (pick(4)) {
		unsigned m = pick(MP_ARRAY_SIZE(modes));

		mp_sb_puts(b, modes[m]);
		/* default and local with a node set are errors: let a few through */
		if (pick(3) && (m != 0 && m != 1 && m != 10 && m < 13 ? true : pick(8) == 0)) {
			mp_sb_puts(b, ":");
			gen_nodeset(b);
		}
	}
	for (unsigned i = 0; i < n; i++) {
		if (b->len)
			mp_sb_puts(b, pick(8) ? " " : " \t ");
		gen_option(b);
	}
}

static void gen_other(struct mp_sb *b)
{
	static const char *const na[] = {"--membind=", "-m ", "--interleave=", "-i", "--preferred-many=", "-w "};
	static const char *const flags[] = {"", "=static", "=relative"};
	static const char *const mp[] = {"bind", "interleave", "prefer"};
	static const char *const sd[] = {"default", "preferred", "bind", "interleave", "local"};
	static const char *const oci[] = {"MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_PREFERRED_MANY",
					  "MPOL_WEIGHTED_INTERLEAVE", "MPOL_PREFERRED"};
	unsigned lo = pick(4), hi = lo + pick(3);

	switch (pick(5)) {
	case 0:
		mp_sb_printf(b, "%s%s%u-%u%s", na[pick(MP_ARRAY_SIZE(na))], pick(3) ? "" : (pick(2) ? "!" : "+"), lo,
			     hi, pick(3) ? "" : " --balancing");
		break;
	case 1:
		mp_sb_printf(b, "%s%s:%u", pick(2) ? "mpol=" : "", mp[pick(2)], lo);
		mp_sb_printf(b, " ");
		mp_sb_printf(b, "mpol=%s%s:%u-%u", mp[pick(2)], flags[pick(3)], lo, hi);
		break;
	case 2:
		mp_sb_printf(b, "mpol=%s%s:%u-%u", mp[pick(2)], flags[pick(3)], lo, hi);
		break;
	case 3:
		mp_sb_printf(b, "NUMAPolicy=%s%sNUMAMask=%u-%u", sd[pick(5)], pick(2) ? "\n" : " ", lo, hi);
		break;
	default:
		mp_sb_printf(b, "{\"mode\":\"%s\",\"nodes\":\"%u-%u\"%s}", oci[pick(5)], lo, hi,
			     pick(2) ? ",\"flags\":[\"MPOL_F_STATIC_NODES\"]" : "");
		break;
	}
}

/* Damage a text a little, to exercise error paths with near-valid input. */
static void mutate(struct mp_sb *b)
{
	static const char junk[] = ",:=!+-< \t0a{\"";

	if (!b->len || pick(5))
		return;
	b->s[pick((unsigned)b->len)] = junk[pick(sizeof(junk) - 1)];
}

static void test_roundtrip_property(void)
{
	unsigned ok = 0, bad = 0, total = 20000;

	for (unsigned i = 0; i < total; i++) {
		struct mp_policy p, q;
		struct mp_diag d;
		struct mp_sb b;
		char *s1, *s2;
		int r;

		mp_sb_init(&b);
		mp_sb_puts(&b, "");
		if (pick(5))
			gen_mplace(&b);
		else
			gen_other(&b);
		mutate(&b);
		if (!mp_sb_ok(&b)) {
			CHECK(false);
			break;
		}
		r = mp_policy_parse(b.s, &p, &d);
		if (r < 0) {
			CHECK_MSG(r == -EINVAL && d.pos <= b.len, "'%s': %d pos %u", b.s, r, d.pos);
			bad++;
			mp_sb_free(&b);
			continue;
		}
		ok++;
		s1 = mp_policy_format(&p);
		r = mp_policy_parse(s1, &q, &d);
		CHECK_MSG(r == 0, "'%s' -> '%s' does not parse: %s", b.s, s1, d.msg);
		if (r == 0) {
			CHECK_MSG(mp_policy_equal(&p, &q), "'%s' -> '%s' differs after the round trip", b.s, s1);
			s2 = mp_policy_format(&q);
			CHECK_MSG(s2 && strcmp(s1, s2) == 0, "'%s' -> '%s' -> '%s'", b.s, s1, s2);
			free(s2);
			mp_policy_free(&q);
		}
		free(s1);
		mp_policy_free(&p);
		mp_sb_free(&b);
	}
	/* the generator must reach both sides, or the property says little */
	CHECK_MSG(ok > total / 2 && bad > total / 20, "ok %u bad %u", ok, bad);
	fprintf(stderr, "round trip: %u parsed, %u rejected\n", ok, bad);
}

int main(void)
{
	test_valid();
	test_forms_explicit();
	test_invalid();
	test_hints();
	test_nodeset();
	test_names();
	test_roundtrip_property();
	return check_status();
}
