/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The exported API: thin wrappers over the internal modules that keep the
 * public conventions (opaque handles, outputs untouched on failure, reasons
 * in a caller-sized struct mplace_error).
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc/alloc.h"
#include "core/combine.h"
#include "config-mplace.h"
#include "core/forms.h"
#include "mplace.h"
#include "kernel/place.h"
#include "core/policy.h"
#include "alloc/replicate.h"
#include "machine/live.h"
#include "machine/topo.h"

struct mplace_policy {
	struct mp_policy p;
};

struct mplace_topo {
	struct mp_topo *t;
};

struct mplace_compiled {
	struct mp_compiled c;
	struct mp_alloc_ref alloc; /* its arena set, found on first allocation */
};

const char *mplace_version(void)
{
	return MPLACE_VERSION;
}

/* Copies a reason into the caller's struct, never past the size it declares. */
static void set_error(struct mplace_error *err, const struct mp_diag *d)
{
	struct mplace_error e;
	size_t n;

	if (!err || err->sz < offsetof(struct mplace_error, message))
		return;
	memset(&e, 0, sizeof(e));
	e.sz = err->sz;
	e.pos = d->pos;
	memcpy(e.message, d->msg, sizeof(e.message));
	memcpy(e.hint, d->hint, sizeof(e.hint));
	e.message[sizeof(e.message) - 1] = e.hint[sizeof(e.hint) - 1] = '\0';
	n = err->sz < sizeof(e) ? err->sz : sizeof(e);
	memcpy(err, &e, n);
}

/* ---- options structs ------------------------------------------------------
 * An options struct only grows at its end, and its first member sz says how
 * big the caller's copy is, so a program and the library may have been built
 * against different versions of mplace.h (libbpf's OPTS_VALID rule):
 *   - an older caller's smaller struct is accepted; the members it lacks read
 *     as zero, which is each member's documented default;
 *   - a newer caller's larger struct is accepted only when every byte past
 *     the members this library knows is zero: a non-zero one is an option
 *     this library would otherwise silently ignore;
 *   - a sz below sz's own size, or one that ends inside a member, is the size
 *     of no version of the struct (a half-copied pointer would be followed).
 * Every entry point that takes options goes through opts_load().  The
 * structs have no padding (asserted below: the members' sizes add up to the
 * struct's), so every byte up to sz is a member's and zero bytes are exactly
 * defaults; a new member goes at the end, into its struct's layout here. */

#define SIZE_OF(type, member) sizeof(((struct type *)0)->member)
#define END_OF(type, member)  (offsetof(struct type, member) + SIZE_OF(type, member))

struct opts_layout {
	const char *name;
	unsigned n;
	size_t end[8]; /* where each member ends, in order; the last is sizeof */
};

static const struct opts_layout resolve_opts_layout = {
	"mplace_resolve_opts",
	6,
	{END_OF(mplace_resolve_opts, sz), END_OF(mplace_resolve_opts, cgroup), END_OF(mplace_resolve_opts, root),
	 END_OF(mplace_resolve_opts, has_local_node), END_OF(mplace_resolve_opts, local_node),
	 END_OF(mplace_resolve_opts, device)},
};
_Static_assert(SIZE_OF(mplace_resolve_opts, sz) + SIZE_OF(mplace_resolve_opts, cgroup) +
			       SIZE_OF(mplace_resolve_opts, root) + SIZE_OF(mplace_resolve_opts, has_local_node) +
			       SIZE_OF(mplace_resolve_opts, local_node) + SIZE_OF(mplace_resolve_opts, device) ==
		       sizeof(struct mplace_resolve_opts),
	       "mplace_resolve_opts: every member is in its layout, and there is no padding");

static const struct opts_layout compile_opts_layout = {
	"mplace_compile_opts",
	5,
	{END_OF(mplace_compile_opts, sz), END_OF(mplace_compile_opts, cgroup),
	 END_OF(mplace_compile_opts, has_local_node), END_OF(mplace_compile_opts, local_node),
	 END_OF(mplace_compile_opts, device)},
};
_Static_assert(SIZE_OF(mplace_compile_opts, sz) + SIZE_OF(mplace_compile_opts, cgroup) +
			       SIZE_OF(mplace_compile_opts, has_local_node) + SIZE_OF(mplace_compile_opts, local_node) +
			       SIZE_OF(mplace_compile_opts, device) ==
		       sizeof(struct mplace_compile_opts),
	       "mplace_compile_opts: every member is in its layout, and there is no padding");

/* Copies the caller's opts (NULL: all defaults) into dst, this library's
 * struct of l's layout, as the rule above says.  -EINVAL with err saying
 * why; dst is then all zero and the caller's outputs are not reached. */
static int opts_load(const struct opts_layout *l, const void *opts, void *dst, struct mplace_error *err)
{
	const unsigned char *b = opts;
	size_t known = l->end[l->n - 1], sz;
	struct mp_diag d;
	unsigned i;

	memset(dst, 0, known);
	if (!opts)
		return 0;
	memcpy(&sz, opts, sizeof(sz));
	memset(&d, 0, sizeof(d));
	if (sz > known) {
		for (size_t k = known; k < sz; k++)
			if (b[k]) {
				snprintf(d.msg, sizeof(d.msg),
					 "struct %s: byte %zu of %zu is not zero, and this libmplace (%s) knows only "
					 "the first %zu",
					 l->name, k, sz, MPLACE_VERSION, known);
				snprintf(d.hint, sizeof(d.hint),
					 "the option comes from a newer mplace.h: leave it unset, or run with a "
					 "libmplace that has it");
				goto invalid;
			}
		sz = known;
	}
	for (i = 0; i < l->n && l->end[i] < sz; i++)
		;
	if (i == l->n || l->end[i] != sz) {
		snprintf(d.msg, sizeof(d.msg), "struct %s: sz is %zu, the size of no version of it", l->name, sz);
		snprintf(d.hint, sizeof(d.hint), "declare it with MPLACE_OPTS(%s, name, ...), which sets sz", l->name);
		goto invalid;
	}
	memcpy(dst, opts, sz);
	return 0;
invalid:
	set_error(err, &d);
	return -EINVAL;
}

int mplace_policy_parse(const char *text, struct mplace_policy **ret_policy, struct mplace_error *err)
{
	struct mplace_policy *p;
	struct mp_diag d;
	int r;

	if (!text || !ret_policy)
		return -EINVAL;
	p = malloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	memset(&d, 0, sizeof(d));
	r = mp_policy_parse(text, &p->p, &d);
	if (r < 0) {
		set_error(err, &d);
		free(p);
		return r;
	}
	*ret_policy = p;
	return 0;
}

int mplace_policy_format(const struct mplace_policy *policy, char **ret_text)
{
	char *s;

	if (!policy || !ret_text)
		return -EINVAL;
	s = mp_policy_format(&policy->p);
	if (!s)
		return -ENOMEM;
	*ret_text = s;
	return 0;
}

int mplace_policy_combine(struct mplace_policy *acc, const struct mplace_policy *s)
{
	if (!acc || !s)
		return -EINVAL;
	return mp_policy_combine(&acc->p, &s->p);
}

void mplace_policy_free(struct mplace_policy *policy)
{
	if (!policy)
		return;
	mp_policy_free(&policy->p);
	free(policy);
}

int mplace_topo_load(const char *root, struct mplace_topo **ret_topo)
{
	struct mplace_topo *t;
	int r;

	if (!ret_topo)
		return -EINVAL;
	t = malloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	r = mp_topo_load(root, &t->t);
	if (r < 0) {
		free(t);
		return r;
	}
	*ret_topo = t;
	return 0;
}

static int mask_to_list(const struct mp_nodemask *m, int *ret_nodes, size_t n)
{
	size_t k = 0;

	mp_mask_foreach(x, m) {
		if (ret_nodes && k < n)
			ret_nodes[k] = x;
		k++;
	}
	return (int)k;
}

int mplace_topo_nodes(const struct mplace_topo *topo, int *ret_nodes, size_t n)
{
	if (!topo)
		return -EINVAL;
	return mask_to_list(&topo->t->memory, ret_nodes, n);
}

void mplace_topo_free(struct mplace_topo *topo)
{
	if (!topo)
		return;
	mp_topo_free(topo->t);
	free(topo);
}

int mplace_resolve(const struct mplace_policy *policy, const struct mplace_topo *topo,
		   const struct mplace_resolve_opts *opts, struct mplace_compiled **ret_compiled,
		   struct mplace_error *err)
{
	struct mp_resolve_ctx ctx = {.local_node = -1};
	struct mplace_resolve_opts o;
	struct mplace_compiled *c;
	struct mp_cgroup cg;
	bool have_cg = false;
	struct mp_diag d;
	int r;

	if (!policy || !topo || !ret_compiled)
		return -EINVAL;
	r = opts_load(&resolve_opts_layout, opts, &o, err);
	if (r < 0)
		return r;
	ctx.topo = topo->t;
	ctx.device = o.device;
	if (o.has_local_node)
		ctx.local_node = o.local_node;
	if (o.cgroup) {
		r = mp_cgroup_load_path(o.root, o.cgroup, &cg);
		if (r < 0)
			return r;
		have_cg = true;
		ctx.cgroup = &cg;
	}
	c = calloc(1, sizeof(*c)); /* zero: no arena set yet */
	if (!c) {
		r = -ENOMEM;
		goto out;
	}
	memset(&d, 0, sizeof(d));
	r = mp_resolve(&policy->p, NULL, &ctx, &c->c, &d);
	if (r < 0) {
		set_error(err, &d);
		free(c);
		goto out;
	}
	*ret_compiled = c;
out:
	if (have_cg)
		mp_cgroup_free(&cg);
	return r;
}

int mplace_compiled_nodes(const struct mplace_compiled *c, int *ret_nodes, size_t n)
{
	if (!c)
		return -EINVAL;
	return mask_to_list(&c->c.nodes, ret_nodes, n);
}

const char *mplace_compiled_mode(const struct mplace_compiled *c)
{
	return c ? mp_mode_name(c->c.mode) : NULL;
}

int mplace_compiled_warnings(const struct mplace_compiled *c)
{
	return c ? (int)c->c.n_warnings : -EINVAL;
}

const char *mplace_compiled_warning(const struct mplace_compiled *c, int i)
{
	if (!c || i < 0 || (unsigned)i >= c->c.n_warnings)
		return NULL;
	return c->c.warnings[i];
}

int mplace_compiled_format(const struct mplace_compiled *c, char **ret_text)
{
	char *text = NULL, *lost = NULL;
	int r;

	if (!c || !ret_text)
		return -EINVAL;
	r = mp_compiled_format_as(&c->c, MP_FORM_MPLACE, &text, &lost);
	free(lost);
	if (r < 0)
		return r;
	*ret_text = text;
	return 0;
}

void mplace_compiled_free(struct mplace_compiled *c)
{
	if (!c)
		return;
	mp_compiled_free(&c->c);
	free(c);
}

/* ---- placement ------------------------------------------------------------
 * mplace_compile resolves against the live machine; mplace_bind, _where,
 * _map and _unmap wrap place.c and copy its report into the caller's
 * size-declared struct. */

static void diag_msg(struct mplace_error *err, const char *what, int r)
{
	struct mp_diag d;

	memset(&d, 0, sizeof(d));
	snprintf(d.msg, sizeof(d.msg), "%s: %s", what, strerror(-r));
	set_error(err, &d);
}

int mplace_compile(const char *policy_text, const struct mplace_compile_opts *opts,
		   struct mplace_compiled **ret_compiled, struct mplace_error *err)
{
	struct mp_resolve_ctx ctx;
	struct mplace_compile_opts o;
	struct mplace_compiled *c = NULL;
	struct mp_live live = {0};
	struct mp_policy p;
	bool have_p = false;
	unsigned cpu, node;
	struct mp_diag d;
	int r;

	if (!policy_text || !ret_compiled)
		return -EINVAL;
	r = opts_load(&compile_opts_layout, opts, &o, err);
	if (r < 0)
		return r;
	memset(&d, 0, sizeof(d));
	r = mp_policy_parse(policy_text, &p, &d);
	if (r < 0) {
		set_error(err, &d);
		return r;
	}
	have_p = true;
	r = mp_live_load(NULL, 0, o.cgroup, &live);
	if (r < 0) {
		diag_msg(err, "reading the machine's topology", r);
		goto out;
	}
	if (o.cgroup && !live.have_cg) {
		/* an explicit cgroup must be there; the process's own may not be */
		r = live.cg_err;
		diag_msg(err, o.cgroup, r);
		goto out;
	}
	mp_live_resolve_ctx(&live, &ctx);
	ctx.device = o.device;
	if (o.has_local_node)
		ctx.local_node = o.local_node;
	else if (getcpu(&cpu, &node) == 0)
		ctx.local_node = (int)node;
	c = calloc(1, sizeof(*c)); /* zero: no arena set yet */
	if (!c) {
		r = -ENOMEM;
		goto out;
	}
	memset(&d, 0, sizeof(d));
	r = mp_resolve(&p, NULL, &ctx, &c->c, &d);
	if (r < 0) {
		set_error(err, &d);
		free(c);
		goto out;
	}
	*ret_compiled = c;
	r = 0;
out:
	mp_live_free(&live);
	if (have_p)
		mp_policy_free(&p);
	return r;
}

_Static_assert(MPLACE_POPULATE == MP_PLACE_POPULATE && MPLACE_VERIFY == MP_PLACE_VERIFY &&
		       MPLACE_MIGRATE == MP_PLACE_MIGRATE && MPLACE_NO_CHECK_FREE == MP_PLACE_NO_CHECK_FREE,
	       "public placement flags are the internal ones");
_Static_assert(MPLACE_BACKEND_KERNEL == MP_BACKEND_KERNEL && MPLACE_BACKEND_CHUNKS == MP_BACKEND_CHUNKS &&
		       MPLACE_BACKEND_KERNEL_WEIGHTED == MP_BACKEND_KERNEL_WEIGHTED &&
		       MPLACE_BACKEND_STRICT_POPULATE == MP_BACKEND_STRICT_POPULATE,
	       "public backend numbers are the internal ones");

static void copy_report(struct mplace_place_report *dst, const struct mp_place_report *src)
{
	struct mplace_place_report o;

	if (!dst || dst->sz < sizeof(size_t))
		return;
	memset(&o, 0, sizeof(o));
	o.sz = dst->sz;
	o.backend = (int)src->backend;
	o.fell_back = src->fell_back;
	o.pages = src->pages;
	o.present = src->present;
	o.misplaced = src->misplaced;
	o.elsewhere = src->elsewhere;
	_Static_assert(MPLACE_REPORT_NODES == MP_COMPILED_MAX, "report sizes agree");
	memcpy(o.per_node, src->per_node, sizeof(o.per_node));
	memcpy(o.reason, src->reason, sizeof(o.reason));
	o.reason[sizeof(o.reason) - 1] = '\0';
	memcpy(dst, &o, dst->sz < sizeof(o) ? dst->sz : sizeof(o));
}

int mplace_bind(void *addr, size_t len, const struct mplace_compiled *c, unsigned flags,
		struct mplace_place_report *report)
{
	struct mp_place_report rep;
	int r;

	if (!c)
		return -EINVAL;
	memset(&rep, 0, sizeof(rep));
	r = mp_place_range(addr, len, &c->c, flags, &rep);
	copy_report(report, &rep);
	return r;
}

int mplace_where(const void *addr, size_t len, size_t page_size, uint64_t *ret_per_node, size_t n_nodes,
		 int *ret_node_of)
{
	long ps = sysconf(_SC_PAGESIZE);

	if (!page_size)
		page_size = ps > 0 ? (size_t)ps : 4096;
	return mp_place_where(addr, len, page_size, ret_per_node, n_nodes, ret_node_of);
}

int mplace_map(const struct mplace_compiled *c, size_t len, unsigned flags, void **ret_addr,
	       struct mplace_place_report *report)
{
	struct mp_place_report rep;
	int r;

	if (!c)
		return -EINVAL;
	memset(&rep, 0, sizeof(rep));
	r = mp_place_map(&c->c, len, flags, ret_addr, &rep);
	copy_report(report, &rep);
	return r;
}

int mplace_unmap(void *addr, size_t len, const struct mplace_compiled *c)
{
	if (!c)
		return -EINVAL;
	return mp_place_unmap(addr, len, &c->c);
}

/* ---- allocation with a policy (alloc.c; the fast paths are inline) ------- */

void *mplace_alloc(const struct mplace_compiled *policy, size_t size)
{
	if (__builtin_expect(!policy, 0)) {
		errno = EINVAL;
		return NULL;
	}
	/* the cache slot is logically mutable: the handle was malloc'ed, not const */
	return mp_alloc(&policy->c, (struct mp_alloc_ref *)&policy->alloc, size, 0);
}

void *mplace_calloc(const struct mplace_compiled *policy, size_t n, size_t size)
{
	size_t total;

	if (!policy) {
		errno = EINVAL;
		return NULL;
	}
	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return mp_alloc(&policy->c, (struct mp_alloc_ref *)&policy->alloc, total, MALLOCX_ZERO);
}

void *mplace_realloc(const struct mplace_compiled *policy, void *ptr, size_t size)
{
	if (!policy) {
		errno = EINVAL;
		return NULL;
	}
	return mp_alloc_realloc(&policy->c, (struct mp_alloc_ref *)&policy->alloc, ptr, size);
}

void *mplace_aligned_alloc(const struct mplace_compiled *policy, size_t align, size_t size)
{
	if (!policy || !align || (align & (align - 1)) || align > ((size_t)1 << 30)) {
		errno = EINVAL;
		return NULL;
	}
	return mp_alloc(&policy->c, (struct mp_alloc_ref *)&policy->alloc, size, MALLOCX_ALIGN(align));
}

void mplace_free(void *ptr)
{
	mp_alloc_free(ptr);
}

size_t mplace_usable_size(const void *ptr)
{
	return mp_alloc_usable_size(ptr);
}

/* ---- replication (replicate.c) ------------------------------------------- */

struct mplace_replica {
	struct mp_replica *r;
};

int mplace_replicate(const struct mplace_compiled *policy, const void *src, size_t len,
		     struct mplace_replica **ret_replica)
{
	struct mplace_replica *h;
	int r;

	if (!policy || !src || !len || !ret_replica)
		return -EINVAL;
	h = malloc(sizeof(*h));
	if (!h)
		return -ENOMEM;
	r = mp_replicate(&policy->c, NULL, src, len, &h->r);
	if (r < 0) {
		free(h);
		return r;
	}
	*ret_replica = h;
	return 0;
}

const void *mplace_replica_local(const struct mplace_replica *r)
{
	return r ? mp_replica_local(r->r) : NULL;
}

int mplace_replica_copies(const struct mplace_replica *r, int i, int *ret_node)
{
	if (!r || i < 0)
		return -EINVAL;
	if (ret_node) {
		if ((unsigned)i >= r->r->n)
			return -EINVAL;
		*ret_node = r->r->node[i];
	}
	return (int)r->r->n;
}

int mplace_replica_update(struct mplace_replica *r, const void *src, size_t len)
{
	return r ? mp_replica_update(r->r, src, len) : -EINVAL;
}

void mplace_replica_free(struct mplace_replica *r)
{
	if (!r)
		return;
	mp_replica_free(r->r);
	free(r);
}
