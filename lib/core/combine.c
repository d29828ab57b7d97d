/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Folding policies from the most general scope to the most specific.  PURE:
 * no syscalls and no file I/O; only the configuration and a selector.
 *
 * Invariants:
 *   - mp_policy_combine() is associative, has the empty policy as identity,
 *     and keeps its result canonical (allow and per-order lists deduplicated,
 *     order constraints sorted by page size), so structural equality is the
 *     law tests' equality;
 *   - constraints only ever accumulate: nothing a specific scope says can
 *     drop an allow set or widen a physical range of a general one;
 *   - on -ENOMEM the accumulator is left exactly as it was.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "basic/util.h"
#include "combine.h"
#include "options.h"
#include "forms.h"

void mp_trace_init(struct mp_trace *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < MP_FIELD__COUNT; i++)
		t->field_step[i] = -1;
}

static void step_free(struct mp_trace_step *s)
{
	free(s->scope);
	free(s->origin);
	free(s->key);
	free(s->text);
	free(s->effect);
}

void mp_trace_free(struct mp_trace *t)
{
	for (unsigned i = 0; i < t->n; i++)
		step_free(&t->steps[i]);
	free(t->steps);
	free(t->allow_step);
	free(t->order_nodes_step);
	mp_trace_init(t);
}

static char *dup_or_null(const char *s, bool *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

static int *dup_ints(const int *a, unsigned n, bool *oom)
{
	int *d;

	if (!n)
		return NULL;
	d = malloc(n * sizeof(*d));
	if (!d) {
		*oom = true;
		return NULL;
	}
	memcpy(d, a, n * sizeof(*d));
	return d;
}

int mp_trace_copy(struct mp_trace *dst, const struct mp_trace *src)
{
	struct mp_trace t;
	bool oom = false;

	mp_trace_init(&t);
	if (src->n) {
		t.steps = calloc(src->n, sizeof(*t.steps));
		if (!t.steps)
			return -ENOMEM;
		t.n = src->n;
		for (unsigned i = 0; i < src->n; i++) {
			t.steps[i].scope = dup_or_null(src->steps[i].scope, &oom);
			t.steps[i].origin = dup_or_null(src->steps[i].origin, &oom);
			t.steps[i].key = dup_or_null(src->steps[i].key, &oom);
			t.steps[i].text = dup_or_null(src->steps[i].text, &oom);
			t.steps[i].effect = dup_or_null(src->steps[i].effect, &oom);
		}
	}
	memcpy(t.field_step, src->field_step, sizeof(t.field_step));
	t.n_allow = src->n_allow;
	t.allow_step = dup_ints(src->allow_step, src->n_allow, &oom);
	t.n_order_nodes = src->n_order_nodes;
	t.order_nodes_step = dup_ints(src->order_nodes_step, src->n_order_nodes, &oom);
	if (oom) {
		mp_trace_free(&t);
		return -ENOMEM;
	}
	*dst = t;
	return 0;
}

/* ---- the fold ---------------------------------------------------------- */

static bool allow_has(const struct mp_policy *p, const struct mp_nodeset *ns)
{
	for (unsigned i = 0; i < p->n_allow; i++)
		if (mp_nodeset_equal(&p->allow[i], ns))
			return true;
	return false;
}

static bool order_has(const struct mp_order_constraint *a, unsigned n, const struct mp_order_constraint *c)
{
	for (unsigned i = 0; i < n; i++)
		if (a[i].page_size == c->page_size && mp_nodeset_equal(&a[i].nodes, &c->nodes))
			return true;
	return false;
}

/* Per-order constraints stay sorted by page size as the parser keeps them
 * (THP, whose value is 1, first): the combination must stay canonical. */
static uint64_t order_key(uint64_t size)
{
	return size;
}

/*
 * Builds the combined constraint lists into r (a copy of acc's scalars), so
 * that a failure leaves acc untouched.  allow: acc's entries, then s's that
 * are new.  order_nodes: merged by page size, acc's before s's within a size.
 */
static int combine_lists(struct mp_policy *r, const struct mp_policy *acc, const struct mp_policy *s,
			 int *ret_allow_src, int *ret_order_src)
{
	unsigned na = 0, no = 0, i = 0, j = 0;

	r->allow = calloc(acc->n_allow + s->n_allow + 1, sizeof(*r->allow));
	r->order_nodes = calloc(acc->n_order_nodes + s->n_order_nodes + 1, sizeof(*r->order_nodes));
	if (!r->allow || !r->order_nodes)
		return -ENOMEM;
	for (unsigned k = 0; k < acc->n_allow; k++) {
		if (mp_nodeset_copy(&r->allow[na], &acc->allow[k]) < 0)
			return -ENOMEM;
		if (ret_allow_src)
			ret_allow_src[na] = (int)k;
		r->n_allow = ++na;
	}
	for (unsigned k = 0; k < s->n_allow; k++) {
		if (allow_has(r, &s->allow[k]))
			continue;
		if (mp_nodeset_copy(&r->allow[na], &s->allow[k]) < 0)
			return -ENOMEM;
		if (ret_allow_src)
			ret_allow_src[na] = -1 - (int)k;
		r->n_allow = ++na;
	}
	while (i < acc->n_order_nodes || j < s->n_order_nodes) {
		const struct mp_order_constraint *c;
		int src;

		if (j >= s->n_order_nodes ||
		    (i < acc->n_order_nodes &&
		     order_key(acc->order_nodes[i].page_size) <= order_key(s->order_nodes[j].page_size))) {
			src = (int)i;
			c = &acc->order_nodes[i++];
		} else {
			src = -1 - (int)j;
			c = &s->order_nodes[j++];
		}
		if (order_has(r->order_nodes, no, c))
			continue;
		r->order_nodes[no].page_size = c->page_size;
		if (mp_nodeset_copy(&r->order_nodes[no].nodes, &c->nodes) < 0)
			return -ENOMEM;
		if (ret_order_src)
			ret_order_src[no] = src;
		r->n_order_nodes = ++no;
	}
	return 0;
}

static int combine_full(struct mp_policy *acc, const struct mp_policy *s, int *allow_src, int *order_src)
{
	struct mp_policy r;
	int ret;

	mp_policy_init(&r);
	/* scalars first: a shallow copy, then the owned members replaced */
	r.mode = s->mode != MP_MODE_UNSET ? s->mode : acc->mode;
	r.phys_set = acc->phys_set || s->phys_set;
	if (acc->phys_set && s->phys_set) {
		r.phys_lo = acc->phys_lo > s->phys_lo ? acc->phys_lo : s->phys_lo;
		r.phys_hi = acc->phys_hi < s->phys_hi ? acc->phys_hi : s->phys_hi;
	} else if (r.phys_set) {
		r.phys_lo = acc->phys_set ? acc->phys_lo : s->phys_lo;
		r.phys_hi = acc->phys_set ? acc->phys_hi : s->phys_hi;
	}
	r.strict = s->strict ? s->strict : acc->strict;
	r.order = s->order ? s->order : acc->order;
	r.automigrate = s->automigrate ? s->automigrate : acc->automigrate;
	r.replicate = s->replicate ? s->replicate : acc->replicate;
	r.home = s->home >= 0 ? s->home : acc->home;
	r.nodeflags = s->nodeflags ? s->nodeflags : acc->nodeflags;
	r.migrate = s->migrate ? s->migrate : acc->migrate;

	ret = combine_lists(&r, acc, s, allow_src, order_src);
	if (ret < 0)
		goto fail;

	{
		const struct mp_policy *n = s->nodes_set ? s : acc;

		r.nodes_set = n->nodes_set;
		if (n->nodes_set && mp_nodeset_copy(&r.nodes, &n->nodes) < 0)
			goto nomem;
	}
	{
		const struct mp_policy *f = s->fallback ? s : acc;

		r.fallback = f->fallback;
		if (f->fallback == MP_FB_NODES && mp_nodeset_copy(&r.fallback_nodes, &f->fallback_nodes) < 0)
			goto nomem;
	}
	{
		const struct mp_policy *w = s->weights ? s : acc;

		r.weights = w->weights;
		if (w->n_weights) {
			r.weight_list = malloc(w->n_weights * sizeof(*r.weight_list));
			if (!r.weight_list)
				goto nomem;
			memcpy(r.weight_list, w->weight_list, w->n_weights * sizeof(*r.weight_list));
			r.n_weights = w->n_weights;
		}
	}
	if (!r.n_allow) {
		free(r.allow);
		r.allow = NULL;
	}
	if (!r.n_order_nodes) {
		free(r.order_nodes);
		r.order_nodes = NULL;
	}
	mp_policy_free(acc);
	*acc = r;
	return 0;
nomem:
	ret = -ENOMEM;
fail:
	mp_policy_free(&r);
	return ret;
}

int mp_policy_combine(struct mp_policy *acc, const struct mp_policy *s)
{
	return combine_full(acc, s, NULL, NULL);
}

/* ---- matching scopes ---------------------------------------------------- */

/* cgroup scope path p contains cgroup c: equal, or a parent by whole components. */
static bool cgroup_contains(const char *p, const char *c)
{
	size_t n = strlen(p);

	while (n > 1 && p[n - 1] == '/')
		n--;
	if (n == 1 && p[0] == '/')
		return true;
	return strncmp(p, c, n) == 0 && (c[n] == '\0' || c[n] == '/');
}

static unsigned path_depth(const char *p)
{
	unsigned d = 0;

	for (; *p; p++)
		if (*p == '/' && p[1] && p[1] != '/')
			d++;
	return d;
}

static bool glob_match(const char *pattern, const char *s)
{
	/* Without FNM_PATHNAME, '*' also matches '/', so "/var/lib/pgsql/" followed by "**" means
	 * everything below that directory. */
	return s && fnmatch(pattern, s, 0) == 0;
}

/* Device names may be written with or without their type prefix. */
static bool device_match(const char *scope, const char *dev)
{
	const char *a, *b;

	if (!dev)
		return false;
	if (!strcmp(scope, dev))
		return true;
	a = strchr(scope, ':');
	b = strchr(dev, ':');
	/* "pci:0000:3b:00.0" against "0000:3b:00.0": compare the name after the type */
	if (a && (!strncmp(scope, "pci:", 4) || !strncmp(scope, "net:", 4) || !strncmp(scope, "block:", 6)))
		if (!strcmp(a + 1, dev))
			return true;
	if (b && (!strncmp(dev, "pci:", 4) || !strncmp(dev, "net:", 4) || !strncmp(dev, "block:", 6)))
		if (!strcmp(b + 1, scope))
			return true;
	return false;
}

bool mp_scope_matches(const struct mp_scope *sc, const struct mp_selector *sel)
{
	switch (sc->kind) {
	case MP_SCOPE_SYSTEM:
		return true;
	case MP_SCOPE_CGROUP:
		return sel->cgroup && cgroup_contains(sc->arg, sel->cgroup);
	case MP_SCOPE_UNIT:
		return glob_match(sc->arg, sel->unit);
	case MP_SCOPE_EXE:
		return glob_match(sc->arg, sel->exe);
	case MP_SCOPE_COMM:
		return glob_match(sc->arg, sel->comm);
	case MP_SCOPE_DEVICE:
		return device_match(sc->arg, sel->device);
	default:
		return false;
	}
}

/* Order of scope kinds from general to specific.  A device's memory is its
 * own object: it is folded over the system (and cgroup, when one is named). */
static int scope_rank(enum mp_scope_kind k)
{
	switch (k) {
	case MP_SCOPE_SYSTEM:
		return 0;
	case MP_SCOPE_CGROUP:
		return 1;
	case MP_SCOPE_DEVICE:
		return 2;
	case MP_SCOPE_UNIT:
		return 3;
	case MP_SCOPE_EXE:
		return 4;
	case MP_SCOPE_COMM:
		return 5;
	default:
		return 6;
	}
}

static bool rule_applies(const struct mp_rule *r, const struct mp_selector *sel)
{
	if (r->kind == MP_KIND_ALL)
		return true;
	if (r->kind != sel->kind)
		return false;
	if ((r->kind == MP_KIND_FILE || r->kind == MP_KIND_SHM) && r->glob)
		return glob_match(r->glob, sel->path);
	return true;
}

struct ordered_scope {
	const struct mp_scope *sc;
	int rank;
	unsigned depth, index;
};

static int cmp_scope(const void *a, const void *b)
{
	const struct ordered_scope *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank - y->rank;
	if (x->depth != y->depth)
		return x->depth < y->depth ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* ---- trace text -------------------------------------------------------- */

/* The fields, named as the options that set them (options.h). */
static const char *field_name(int f)
{
	static const int option_of[MP_FIELD__COUNT] = {
		[MP_FIELD_MODE] = -1,
		[MP_FIELD_NODES] = MP_OPT_NODES,
		[MP_FIELD_PHYS] = MP_OPT_PHYS,
		[MP_FIELD_STRICT] = MP_OPT_STRICT,
		[MP_FIELD_FALLBACK] = MP_OPT_FALLBACK,
		[MP_FIELD_WEIGHTS] = MP_OPT_WEIGHTS,
		[MP_FIELD_ORDER] = MP_OPT_ORDER,
		[MP_FIELD_AUTOMIGRATE] = MP_OPT_AUTOMIGRATE,
		[MP_FIELD_REPLICATE] = MP_OPT_REPLICATE,
		[MP_FIELD_HOME] = MP_OPT_HOME,
		[MP_FIELD_NODEFLAGS] = -1,
		[MP_FIELD_MIGRATE] = MP_OPT_MIGRATE,
	};

	if (f == MP_FIELD_MODE)
		return "mode";
	if (f == MP_FIELD_NODEFLAGS)
		return "static/relative";
	return mp_options[option_of[f]].name;
}

/* Which fields policy p sets (bit per enum mp_field). */
static unsigned fields_set(const struct mp_policy *p)
{
	unsigned f = 0;

	f |= (p->mode != MP_MODE_UNSET) << MP_FIELD_MODE;
	f |= p->nodes_set << MP_FIELD_NODES;
	f |= p->phys_set << MP_FIELD_PHYS;
	f |= (p->strict != MP_UNSET) << MP_FIELD_STRICT;
	f |= (p->fallback != MP_FB_UNSET) << MP_FIELD_FALLBACK;
	f |= (p->weights != MP_W_UNSET) << MP_FIELD_WEIGHTS;
	f |= (p->order != 0) << MP_FIELD_ORDER;
	f |= (p->automigrate != MP_AM_UNSET) << MP_FIELD_AUTOMIGRATE;
	f |= (p->replicate != MP_UNSET) << MP_FIELD_REPLICATE;
	f |= (p->home >= 0) << MP_FIELD_HOME;
	f |= (p->nodeflags != MP_NF_UNSET) << MP_FIELD_NODEFLAGS;
	f |= (p->migrate != MP_UNSET) << MP_FIELD_MIGRATE;
	return f;
}

/* "sets mode, nodes; overrides strict (from system); narrows allow with 0-1" */
static char *describe_effect(const struct mp_policy *rule, const struct mp_trace *t, unsigned n_allow_before,
			     const struct mp_policy *after)
{
	unsigned f = fields_set(rule);
	const char *sep = "";
	struct mp_sb b;

	mp_sb_init(&b);
	for (unsigned i = 0; i < MP_FIELD__COUNT; i++) {
		if (!(f & (1u << i)))
			continue;
		if (t->field_step[i] >= 0)
			mp_sb_printf(&b, "%soverrides %s", sep, field_name((int)i));
		else
			mp_sb_printf(&b, "%ssets %s", sep, field_name((int)i));
		/* the value, for the fields people ask about most */
		if (i == MP_FIELD_MODE) {
			mp_sb_printf(&b, " %s", mp_mode_name(rule->mode));
		} else if (i == MP_FIELD_NODES) {
			char *ns = mp_nodeset_format(&rule->nodes);

			mp_sb_printf(&b, " %s", ns ? ns : "?");
			free(ns);
		}
		if (t->field_step[i] >= 0)
			mp_sb_printf(&b, " (from %s)", t->steps[t->field_step[i]].scope);
		sep = "; ";
	}
	for (unsigned i = n_allow_before; i < after->n_allow; i++) {
		char *ns = mp_nodeset_format(&after->allow[i]);

		mp_sb_printf(&b, "%snarrows allowed nodes to %s", sep, ns ? ns : "?");
		free(ns);
		sep = "; ";
	}
	if (rule->phys_set && (f & (1u << MP_FIELD_PHYS)) && t->field_step[MP_FIELD_PHYS] >= 0) {
		/* phys intersects rather than overrides: say so */
		mp_sb_printf(&b, " (physical ranges intersect)");
	}
	if (rule->n_order_nodes)
		mp_sb_printf(&b, "%sconstrains nodes per page size", sep), sep = "; ";
	if (!b.len)
		mp_sb_puts(&b, "adds nothing new (every constraint it names is already in force)");
	return mp_sb_steal(&b);
}

static char *scope_label(const struct mp_scope *sc)
{
	struct mp_sb b;

	mp_sb_init(&b);
	mp_sb_puts(&b, mp_scope_kind_name(sc->kind));
	if (sc->arg)
		mp_sb_printf(&b, " %s", sc->arg);
	return mp_sb_steal(&b);
}

/* Adds one contributing policy to the fold and its step to the trace. */
static int fold_step(struct mp_policy *acc, struct mp_trace *t, const struct mp_policy *pol, char *scope, char *origin,
		     const char *key)
{
	unsigned n_allow_before = acc->n_allow;
	unsigned cap = acc->n_allow + pol->n_allow + 1, ocap = acc->n_order_nodes + pol->n_order_nodes + 1;
	int *allow_src = NULL, *order_src = NULL;
	struct mp_trace_step *st, *steps;
	unsigned f = fields_set(pol);
	int ret = -ENOMEM;

	if (!t) {
		free(scope);
		free(origin);
		return mp_policy_combine(acc, pol);
	}
	allow_src = calloc(cap, sizeof(int));
	order_src = calloc(ocap, sizeof(int));
	steps = realloc(t->steps, (t->n + 1) * sizeof(*t->steps));
	if (!allow_src || !order_src || !steps)
		goto out;
	t->steps = steps;
	st = &t->steps[t->n];
	memset(st, 0, sizeof(*st));
	st->scope = scope;
	st->origin = origin;
	scope = origin = NULL;
	st->key = key ? strdup(key) : NULL;
	st->text = mp_policy_format(pol);
	if ((key && !st->key) || !st->text) {
		step_free(st);
		goto out;
	}
	ret = combine_full(acc, pol, allow_src, order_src);
	if (ret < 0) {
		step_free(st);
		goto out;
	}
	t->n++;
	st->effect = describe_effect(pol, t, n_allow_before, acc);
	/* provenance of the constraint lists: entries from acc keep theirs */
	{
		int *na = malloc((acc->n_allow + 1) * sizeof(int));
		int *no = malloc((acc->n_order_nodes + 1) * sizeof(int));

		if (!na || !no) {
			free(na);
			free(no);
			ret = -ENOMEM;
			goto out;
		}
		for (unsigned i = 0; i < acc->n_allow; i++)
			na[i] = allow_src[i] >= 0 ? t->allow_step[allow_src[i]] : (int)t->n - 1;
		for (unsigned i = 0; i < acc->n_order_nodes; i++)
			no[i] = order_src[i] >= 0 ? t->order_nodes_step[order_src[i]] : (int)t->n - 1;
		free(t->allow_step);
		free(t->order_nodes_step);
		t->allow_step = na;
		t->n_allow = acc->n_allow;
		t->order_nodes_step = no;
		t->n_order_nodes = acc->n_order_nodes;
	}
	for (unsigned i = 0; i < MP_FIELD__COUNT; i++)
		if (f & (1u << i))
			t->field_step[i] = (int)t->n - 1;
	ret = st->effect ? 0 : -ENOMEM;
out:
	free(scope);
	free(origin);
	free(allow_src);
	free(order_src);
	return ret;
}

static char *rule_origin(const struct mp_rule *r)
{
	struct mp_sb b;

	if (!r->file)
		return NULL;
	mp_sb_init(&b);
	mp_sb_printf(&b, "%s:%u:%u", r->file, r->line, r->col);
	return mp_sb_steal(&b);
}

int mp_fold(const struct mp_config *cfg, const struct mp_selector *sel, const struct mp_policy *expr,
	    struct mp_policy *ret, struct mp_trace *trace)
{
	struct ordered_scope *order = NULL;
	struct mp_policy acc;
	struct mp_trace t;
	unsigned n = 0;
	int r = 0;

	mp_policy_init(&acc);
	mp_trace_init(&t);
	if (cfg && cfg->n_scopes) {
		order = calloc(cfg->n_scopes, sizeof(*order));
		if (!order)
			return -ENOMEM;
		for (unsigned i = 0; i < cfg->n_scopes; i++) {
			const struct mp_scope *sc = &cfg->scopes[i];

			if (!sel->match_all && !mp_scope_matches(sc, sel))
				continue;
			order[n].sc = sc;
			order[n].rank = scope_rank(sc->kind);
			order[n].depth = sc->kind == MP_SCOPE_CGROUP ? path_depth(sc->arg) : 0;
			order[n].index = i;
			n++;
		}
		qsort(order, n, sizeof(*order), cmp_scope);
	}
	for (unsigned i = 0; i < n && r >= 0; i++) {
		const struct mp_scope *sc = order[i].sc;

		/* inside one scope: the generic key first, then the kind's key */
		for (int pass = 0; pass < 2 && r >= 0; pass++)
			for (unsigned k = 0; k < sc->n_rules && r >= 0; k++) {
				const struct mp_rule *rule = &sc->rules[k];
				char *label;

				if ((pass == 0) != (rule->kind == MP_KIND_ALL) || !rule_applies(rule, sel))
					continue;
				label = scope_label(sc);
				if (!label) {
					r = -ENOMEM;
					break;
				}
				r = fold_step(&acc, trace ? &t : NULL, &rule->pol, label, rule_origin(rule), rule->key);
			}
	}
	if (r >= 0 && expr) {
		char *label = strdup(sel->expr_label ? sel->expr_label : "command line");

		r = label ? fold_step(&acc, trace ? &t : NULL, expr, label, NULL, "policy") : -ENOMEM;
	}
	free(order);
	if (r < 0) {
		mp_policy_free(&acc);
		mp_trace_free(&t);
		return r;
	}
	*ret = acc;
	if (trace)
		*trace = t;
	return 0;
}

int mp_source_text(const struct mp_compiled *c, const struct mp_trace *fold_trace, char **ret_text)
{
	char *canonical = NULL, *lost = NULL, *s;
	struct mp_sb b;
	bool first = true;

	mp_sb_init(&b);
	if (mp_compiled_format_as(c, MP_FORM_MPLACE, &canonical, &lost) < 0)
		canonical = NULL;
	mp_sb_puts(&b, canonical && *canonical ? canonical : "default");
	mp_sb_puts(&b, " (");
	for (unsigned i = 0; i < fold_trace->n; i++) {
		const struct mp_trace_step *st = &fold_trace->steps[i];

		if (!st->key || !st->scope)
			continue;
		mp_sb_printf(&b, "%s%s", first ? "" : ", ", st->scope);
		if (st->origin)
			mp_sb_printf(&b, " at %s", st->origin);
		first = false;
	}
	mp_sb_puts(&b, first ? "default)" : ")");
	free(canonical);
	free(lost);
	s = mp_sb_steal(&b);
	if (!s)
		return -ENOMEM;
	*ret_text = s;
	return 0;
}

/* Does the fold's trace hold a step for this kind's own key (or a file glob)? */
static bool trace_sets_kind(const struct mp_trace *t, enum mp_kind kind)
{
	for (unsigned i = 0; i < t->n; i++) {
		enum mp_kind k;
		const char *g;

		if (t->steps[i].key && mp_kind_parse(t->steps[i].key, &k, &g) == 0 && k == kind)
			return true;
	}
	return false;
}

int mp_resolve_kind(const struct mp_config *cfg, const struct mp_selector *sel, const struct mp_policy *expr,
		    bool expr_sets_kind, const struct mp_resolve_ctx *ctx, struct mp_compiled *ret, char **ret_src,
		    struct mp_diag *diag)
{
	struct mp_policy folded;
	struct mp_trace trace;
	struct mp_compiled c;
	bool wanted;
	int r;

	r = mp_fold(cfg, sel, expr, &folded, &trace);
	if (r < 0)
		return r;
	wanted = sel->kind == MP_KIND_ALL ? !mp_policy_is_empty(&folded)
					  : expr_sets_kind || trace_sets_kind(&trace, sel->kind);
	if (!wanted) {
		r = 0;
		goto out;
	}
	r = mp_resolve(&folded, &trace, ctx, &c, diag);
	if (r < 0)
		goto out;
	r = mp_source_text(&c, &trace, ret_src);
	if (r < 0) {
		mp_compiled_free(&c);
		goto out;
	}
	*ret = c;
	r = 1;
out:
	mp_policy_free(&folded);
	mp_trace_free(&trace);
	return r;
}
