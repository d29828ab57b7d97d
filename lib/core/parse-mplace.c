/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The mplace language: [MODE[:NODESET]] {OPTION}, with presets (gfp:*, hbw,
 * ...) expanded in place (doc/policy-language.md).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/util.h"
#include "options.h"
#include "parse.h"
#include "policy.h"

/* ---- the mplace language ---------------------------------------------------- */

static const struct name_val mp_parse_modes[] = {
	{"default", MP_MODE_DEFAULT},
	{"local", MP_MODE_LOCAL},
	{"bind", MP_MODE_BIND},
	{"prefer", MP_MODE_PREFER},
	{"prefer-many", MP_MODE_PREFER_MANY},
	{"interleave", MP_MODE_INTERLEAVE},
	{"weighted-interleave", MP_MODE_WEIGHTED_INTERLEAVE},
	{"split", MP_MODE_SPLIT},
	/* numactl and kernel spellings */
	{"membind", MP_MODE_BIND},
	{"preferred", MP_MODE_PREFER},
	{"localalloc", MP_MODE_LOCAL},
	{"preferred-many", MP_MODE_PREFER_MANY},
	{"weighted", MP_MODE_WEIGHTED_INTERLEAVE},
};

static const char *const mode_words[] = {
	"default", "local",   "bind",	   "prefer",	 "prefer-many",	   "interleave", "weighted-interleave",
	"split",   "membind", "preferred", "localalloc", "preferred-many", "weighted",	 NULL,
};

#define MODE_HINT "modes: default, local, bind, prefer, prefer-many, interleave, weighted-interleave, split"

int mp_parse_lookup(const struct name_val *t, size_t n, const char *s, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (mp_streqn(s, len, t[i].name))
			return t[i].val;
	return -1;
}

/* Presets: each is policy text expanded in place (options.h). */
static const struct {
	const char *name, *text;
} presets[] = {
#define PRESET(n, t) {n, t},
	MP_PRESETS(PRESET)
#undef PRESET
};

/* Every option and preset as written, for "did you mean" (options.h). */
static const char *const option_words[] = {MP_OPTIONS(MP_OPTION_WORD) MP_PRESETS(MP_PRESET_WORD) NULL};

#define OPTION_HINT "options:" MP_OPTIONS(MP_OPTION_HINT) "; presets:" MP_PRESETS(MP_PRESET_HINT)

static int parse_yesno(const char *v, size_t len, enum mp_tristate *ret)
{
	if (mp_streqn(v, len, "yes")) {
		*ret = MP_YES;
		return 0;
	}
	if (mp_streqn(v, len, "no")) {
		*ret = MP_NO;
		return 0;
	}
	return -EINVAL;
}

/* A page size: a power of two of at least 4K, or "thp". */
static int parse_page_size(const char *v, size_t len, uint64_t *ret)
{
	uint64_t s;

	if (mp_streqn(v, len, "thp")) {
		*ret = MP_ORDER_THP;
		return 0;
	}
	if (mp_parse_size(v, len, &s) < 0 || s < 4096 || (s & (s - 1)))
		return -EINVAL;
	*ret = s;
	return 0;
}

static int cmp_weight(const void *a, const void *b)
{
	const struct mp_weight *x = a, *y = b;

	return (int)x->node - (int)y->node;
}

static int parse_weights(struct mp_policy *p, const char *v, size_t len, size_t base, struct mp_diag *d)
{
	static const char hint[] = "write weights=auto or weights=NODE:WEIGHT,... with weights 1-255, e.g. 0:3,1:1";
	struct mp_weight *w = NULL;
	unsigned n = 0;
	size_t i = 0;

	if (mp_streqn(v, len, "auto")) {
		free(p->weight_list);
		p->weight_list = NULL;
		p->n_weights = 0;
		p->weights = MP_W_AUTO;
		return 0;
	}
	if (len == 0)
		return mp_parse_fail(d, base, hint, "empty weight list");
	while (i <= len) {
		size_t e = i, c;
		uint64_t node, wt;
		struct mp_weight *nw;

		while (e < len && v[e] != ',')
			e++;
		for (c = i; c < e && v[c] != ':'; c++)
			;
		if (c == e) {
			free(w);
			return mp_parse_fail(d, base + i, hint, "weight '%.*s' is not NODE:WEIGHT", Q(e - i), v + i);
		}
		if (mp_parse_uint(v + i, c - i, MP_MAX_NODES - 1, &node) < 0) {
			free(w);
			return mp_parse_fail(d, base + i, hint, "bad node '%.*s' in weights", Q(c - i), v + i);
		}
		if (mp_parse_uint(v + c + 1, e - c - 1, 255, &wt) < 0 || wt == 0) {
			free(w);
			return mp_parse_fail(d, base + c + 1, hint, "bad weight '%.*s' (weights are 1-255)",
					     Q(e - c - 1), v + c + 1);
		}
		for (unsigned k = 0; k < n; k++)
			if (w[k].node == node) {
				free(w);
				return mp_parse_fail(d, base + i, "give each node one weight",
						     "node %u has two weights", (unsigned)node);
			}
		nw = realloc(w, (n + 1) * sizeof(*w));
		if (!nw) {
			free(w);
			return mp_parse_oom(d, base);
		}
		w = nw;
		w[n].node = (uint16_t)node;
		w[n].weight = (uint16_t)wt;
		n++;
		i = e + 1;
	}
	qsort(w, n, sizeof(*w), cmp_weight);
	free(p->weight_list);
	p->weight_list = w;
	p->n_weights = n;
	p->weights = MP_W_LIST;
	return 0;
}

static int apply_text(struct mp_policy *p, const char *text, size_t len, size_t base, bool preset, struct mp_diag *d);

/* Expands a preset whose name is tok[0..len); returns 1 if it was one. */
static int try_preset(struct mp_policy *p, const char *tok, size_t len, size_t base, struct mp_diag *d)
{
	for (size_t i = 0; i < MP_ARRAY_SIZE(presets); i++)
		if (mp_streqn(tok, len, presets[i].name)) {
			int r = apply_text(p, presets[i].text, strlen(presets[i].text), base, true, d);
			return r < 0 ? r : 1;
		}
	return 0;
}

/* Positions inside a preset's own text mean nothing to the user: report the
 * preset token instead.  'base' is the token's offset; set_pos() maps. */
struct ctx {
	size_t base;
	bool preset; /* expanding a preset: every position is 'base' */
};

static size_t at(const struct ctx *c, size_t off)
{
	return c->preset ? c->base : c->base + off;
}

static int parse_mode_token(struct mp_policy *p, const char *tok, size_t len, const struct ctx *c, struct mp_diag *d,
			    bool *ret_was_mode)
{
	size_t nl = 0;
	int m;

	while (nl < len && tok[nl] != ':')
		nl++;
	m = mp_parse_lookup(mp_parse_modes, MP_ARRAY_SIZE(mp_parse_modes), tok, nl);
	*ret_was_mode = m >= 0;
	if (m < 0)
		return 0;
	mp_parse_set_mode(p, (enum mp_mode)m);
	if (nl < len) {
		struct mp_nodeset ns;
		int r;

		if (m == MP_MODE_LOCAL || m == MP_MODE_DEFAULT)
			return mp_parse_fail(d, at(c, nl), "write the mode alone; use allow= to restrict nodes",
					     "mode '%.*s' takes no node set", Q(nl), tok);
		r = mp_parse_ns_at(tok + nl + 1, len - nl - 1, at(c, nl + 1), &ns, d);
		if (r < 0)
			return r;
		mp_parse_set_nodes(p, &ns);
	}
	return 0;
}

static int parse_option(struct mp_policy *p, const char *tok, size_t len, const struct ctx *c, struct mp_diag *d)
{
	char hint[512];
	size_t kl = 0;
	const char *v;
	size_t vl, vo;
	bool has_val;
	struct mp_nodeset ns;
	int r;

	if (len > 5 && memcmp(tok, "phys<", 5) == 0) {
		uint64_t hi;

		if (mp_parse_size(tok + 5, len - 5, &hi) < 0 || hi == 0)
			return mp_parse_fail(d, at(c, 5), "write a size above zero, e.g. phys<4G",
					     "bad size '%.*s' in '%.*s'", Q(len - 5), tok + 5, Q(len), tok);
		p->phys_set = true;
		p->phys_lo = 0;
		p->phys_hi = hi;
		return 0;
	}
	while (kl < len && tok[kl] != '=')
		kl++;
	has_val = kl < len;
	vo = kl + 1;
	v = tok + vo;
	vl = has_val ? len - vo : 0;

	int opt = mp_option_lookup(tok, kl);

#define KEY(id) (opt == MP_OPT_##id)
#define NEED_VAL(h)                                                                                       \
	do {                                                                                              \
		if (!has_val || vl == 0)                                                                  \
			return mp_parse_fail(d, at(c, kl), h, "option '%.*s' needs a value", Q(kl), tok); \
	} while (0)
#define NO_VAL(h)                                                                                          \
	do {                                                                                               \
		if (has_val)                                                                               \
			return mp_parse_fail(d, at(c, kl), h, "option '%.*s' takes no value", Q(kl), tok); \
	} while (0)
#define YESNO(field)                                                                                                   \
	do {                                                                                                           \
		if (!has_val)                                                                                          \
			(field) = MP_YES;                                                                              \
		else if (parse_yesno(v, vl, &(field)) < 0)                                                             \
			return mp_parse_fail(d, at(c, vo), "write yes or no", "bad value '%.*s' for '%.*s'", Q(vl), v, \
					     Q(kl), tok);                                                              \
	} while (0)

	if (KEY(ALLOW)) {
		NEED_VAL("write allow=NODES, e.g. allow=0-1");
		r = mp_parse_ns_at(v, vl, at(c, vo), &ns, d);
		if (r < 0)
			return r;
		return mp_parse_add_allow(p, &ns) < 0 ? mp_parse_oom(d, at(c, 0)) : 0;
	}
	if (KEY(NODES)) {
		/* with local or default, nodes= is kept for a more specific scope whose
		 * mode uses a node set (the combination's closure needs it) */
		NEED_VAL("write nodes=NODES, e.g. nodes=0-1");
		r = mp_parse_ns_at(v, vl, at(c, vo), &ns, d);
		if (r < 0)
			return r;
		mp_parse_set_nodes(p, &ns);
		return 0;
	}
	if (KEY(PHYS)) {
		const char *dash;
		uint64_t lo, hi;

		NEED_VAL("write phys<SIZE or phys=START-END, e.g. phys=1G-4G");
		dash = memchr(v, '-', vl);
		if (!dash)
			return mp_parse_fail(d, at(c, vo), "write phys=START-END, e.g. phys=1G-4G",
					     "'%.*s' is not a range", Q(vl), v);
		if (mp_parse_size(v, (size_t)(dash - v), &lo) < 0)
			return mp_parse_fail(d, at(c, vo), "sizes are numbers with an optional K, M, G or T",
					     "bad size '%.*s'", Q(dash - v), v);
		if (mp_parse_size(dash + 1, vl - (size_t)(dash - v) - 1, &hi) < 0)
			return mp_parse_fail(d, at(c, vo + (size_t)(dash - v) + 1),
					     "sizes are numbers with an optional K, M, G or T", "bad size '%.*s'",
					     Q(vl - (size_t)(dash - v) - 1), dash + 1);
		if (lo >= hi)
			return mp_parse_fail(d, at(c, vo), "the range is [START, END): START must be below END",
					     "empty physical range '%.*s'", Q(vl), v);
		p->phys_set = true;
		p->phys_lo = lo;
		p->phys_hi = hi;
		return 0;
	}
	if (kl > 6 && memcmp(tok, "order.", 6) == 0) {
		uint64_t size;

		if (parse_page_size(tok + 6, kl - 6, &size) < 0)
			return mp_parse_fail(d, at(c, 6), "page sizes: 4K, 64K, 2M, 1G (powers of two from 4K) or thp",
					     "bad page size '%.*s'", Q(kl - 6), tok + 6);
		NEED_VAL("write order.SIZE=NODES, e.g. order.2M=0-1");
		r = mp_parse_ns_at(v, vl, at(c, vo), &ns, d);
		if (r < 0)
			return r;
		return mp_parse_add_order_nodes(p, size, &ns) < 0 ? mp_parse_oom(d, at(c, 0)) : 0;
	}
	if (KEY(STRICT)) {
		YESNO(p->strict);
		return 0;
	}
	if (KEY(FALLBACK)) {
		NEED_VAL("write fallback=NODES or fallback=none");
		if (mp_streqn(v, vl, "none")) {
			mp_nodeset_free(&p->fallback_nodes);
			p->fallback = MP_FB_NONE;
			return 0;
		}
		r = mp_parse_ns_at(v, vl, at(c, vo), &ns, d);
		if (r < 0)
			return r;
		mp_parse_ns_move(&p->fallback_nodes, &ns);
		p->fallback = MP_FB_NODES;
		return 0;
	}
	if (KEY(WEIGHTS)) {
		NEED_VAL("write weights=auto or weights=NODE:WEIGHT,...");
		return parse_weights(p, v, vl, at(c, vo), d);
	}
	if (KEY(ORDER)) {
		NEED_VAL("write order=4K, order=2M, order=1G or order=thp");
		if (parse_page_size(v, vl, &p->order) < 0)
			return mp_parse_fail(d, at(c, vo), "page sizes: 4K, 64K, 2M, 1G (powers of two from 4K) or thp",
					     "bad page size '%.*s'", Q(vl), v);
		return 0;
	}
	if (KEY(AUTOMIGRATE)) {
		static const struct name_val am[] = {
			{"auto", MP_AM_AUTO},	{"off", MP_AM_OFF},	{"balancing", MP_AM_BALANCING},
			{"damon", MP_AM_DAMON}, {"touch", MP_AM_TOUCH},
		};
		int a;

		if (!has_val) {
			p->automigrate = MP_AM_AUTO;
			return 0;
		}
		a = mp_parse_lookup(am, MP_ARRAY_SIZE(am), v, vl);
		if (a < 0)
			return mp_parse_fail(d, at(c, vo),
					     "write automigrate, or automigrate=balancing|damon|touch|off",
					     "unknown automigrate mechanism '%.*s'", Q(vl), v);
		p->automigrate = (enum mp_automigrate)a;
		return 0;
	}
	if (KEY(REPLICATE)) {
		YESNO(p->replicate);
		return 0;
	}
	if (KEY(MIGRATE)) {
		YESNO(p->migrate);
		return 0;
	}
	if (KEY(HOME)) {
		uint64_t n;

		NEED_VAL("write home=NODE, e.g. home=0");
		if (mp_parse_uint(v, vl, MP_MAX_NODES - 1, &n) < 0)
			return mp_parse_fail(d, at(c, vo), "NUMA node numbers run from 0 to 1023", "bad node '%.*s'",
					     Q(vl), v);
		p->home = (int)n;
		return 0;
	}
	if (KEY(STATIC)) {
		NO_VAL("write static alone");
		p->nodeflags = MP_NF_STATIC;
		return 0;
	}
	if (KEY(RELATIVE)) {
		NO_VAL("write relative alone");
		p->nodeflags = MP_NF_RELATIVE;
		return 0;
	}
	if (KEY(NODEFLAGS)) {
		static const struct name_val nf[] = {
			{"none", MP_NF_NONE},
			{"static", MP_NF_STATIC},
			{"relative", MP_NF_RELATIVE},
		};
		int f = has_val ? mp_parse_lookup(nf, MP_ARRAY_SIZE(nf), v, vl) : -1;

		if (f < 0)
			return mp_parse_fail(d, at(c, has_val ? vo : 0), "write nodeflags=none|static|relative",
					     "bad node flags '%.*s'", Q(len), tok);
		p->nodeflags = (enum mp_nodeflags)f;
		return 0;
	}
#undef KEY
#undef NEED_VAL
#undef NO_VAL
#undef YESNO
	r = try_preset(p, tok, len, at(c, 0), d);
	if (r)
		return r < 0 ? r : 0;
	{
		size_t nl = 0;

		while (nl < len && tok[nl] != ':')
			nl++;
		if (mp_parse_lookup(mp_parse_modes, MP_ARRAY_SIZE(mp_parse_modes), tok, nl) >= 0)
			return mp_parse_fail(d, at(c, 0), "write the mode first: mode[:NODES] {option}",
					     "mode '%.*s' must be the first word", Q(nl), tok);
	}
	if (mp_parse_near_miss(tok, kl, option_words) || !mp_parse_near_miss(tok, kl, mode_words))
		mp_parse_suggest(hint, sizeof(hint), tok, kl, option_words, OPTION_HINT);
	else
		mp_parse_suggest(hint, sizeof(hint), tok, kl, mode_words, MODE_HINT);
	return mp_parse_fail(d, at(c, 0), hint, "unknown option '%.*s'", Q(len), tok);
}

/*
 * The mplace form: words separated by blanks; the first may be a mode or a
 * preset, every word may be an option or a preset.
 */
static int apply_text(struct mp_policy *p, const char *text, size_t len, size_t base, bool preset, struct mp_diag *d)
{
	size_t i = 0;
	bool first = true;

	for (;;) {
		size_t s, e;
		struct ctx c;
		int r;

		while (i < len && isspace((unsigned char)text[i]))
			i++;
		if (i == len)
			return 0;
		s = i;
		while (i < len && !isspace((unsigned char)text[i]))
			i++;
		e = i;
		c.base = preset ? base : base + s;
		c.preset = preset;
		if (first) {
			bool was_mode;

			r = parse_mode_token(p, text + s, e - s, &c, d, &was_mode);
			if (r < 0)
				return r;
			first = false;
			if (was_mode)
				continue;
			r = try_preset(p, text + s, e - s, c.base, d);
			if (r < 0)
				return r;
			if (r > 0)
				continue;
			if (!preset && memchr(text + s, ':', e - s) && !memchr(text + s, '=', e - s)) {
				/* "bnid:0-1": a misspelt mode, not an option */
				char hint[512];
				size_t nl = (size_t)((const char *)memchr(text + s, ':', e - s) - (text + s));

				for (size_t k = 0; k < MP_ARRAY_SIZE(presets); k++)
					if (mp_streqn(text + s, nl, presets[k].name))
						return mp_parse_fail(d, c.base + nl, "write the preset alone",
								     "preset '%.*s' takes no node set", Q(nl),
								     text + s);

				return mp_parse_fail(
					d, c.base,
					mp_parse_suggest(hint, sizeof(hint), text + s, nl, mode_words, MODE_HINT),
					"unknown mode '%.*s'", Q(nl), text + s);
			}
		}
		r = parse_option(p, text + s, e - s, &c, d);
		if (r < 0)
			return r;
	}
}

int mp_parse_mplace(const char *text, struct mp_policy *ret, struct mp_diag *d)
{
	struct mp_policy p;
	int r;

	mp_policy_init(&p);
	r = apply_text(&p, text, strlen(text), 0, false, d);
	if (r < 0) {
		mp_policy_free(&p);
		return r;
	}
	*ret = p;
	return 0;
}
