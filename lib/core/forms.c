/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A resolved policy written in other tools' spellings (forms.h).
 *
 * Invariant: nothing is dropped silently.  Each attribute of the compiled
 * policy is either written in the form or named in the "lost" sentence with
 * the reason; a mode the form has no word for is -EXDEV, not a nearby mode.
 * The kernel semantics behind each form decide what is lost: every form but
 * mplace's own ends in set_mempolicy/mbind, so strict (fail instead of the
 * OOM killer), weights per policy, page order, physical ranges, replication,
 * migration and the home node are mplace's alone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/util.h"
#include "forms.h"
#include "mpol.h"

struct out {
	struct mp_sb text, lost;
	const char *form; /* for the reasons: "numactl", "systemd NUMAPolicy=" */
};

__attribute__((format(printf, 2, 3))) static void lose(struct out *o, const char *fmt, ...)
{
	va_list ap;

	if (o->lost.len)
		mp_sb_puts(&o->lost, "; ");
	va_start(ap, fmt);
	mp_sb_vprintf(&o->lost, fmt, ap);
	va_end(ap);
}

static void mask_text(const struct mp_nodemask *m, char *buf, size_t size)
{
	if (mp_mask_format(m, buf, size) >= (int)size && size > 4)
		memcpy(buf + size - 4, "...", 4);
}

static bool needs_nodes(enum mp_mode m)
{
	return m != MP_MODE_DEFAULT && m != MP_MODE_LOCAL && m != MP_MODE_UNSET;
}

static bool balancing(const struct mp_compiled *c)
{
	return c->kflags & MP_MPOL_F_NUMA_BALANCING;
}

/*
 * What the kernel-level forms share: everything that only mplace's own
 * enforcement does.  'flags_ok': the form can say static/relative;
 * 'balancing_ok': it can say MPOL_F_NUMA_BALANCING.
 */
static void lose_common(struct out *o, const struct mp_compiled *c, bool flags_ok, bool balancing_ok)
{
	char buf[256];

	if (c->strict)
		lose(o, "strict (%s gives kernel semantics: %s, not an allocation error)", o->form,
		     c->mode == MP_MODE_BIND ? "bind invokes the OOM killer" : "the kernel falls back or OOM-kills");
	else if (c->mode == MP_MODE_BIND && c->n_fallback) {
		struct mp_sb b;

		mp_sb_init(&b);
		for (unsigned i = 0; i < c->n_fallback; i++)
			mp_sb_printf(&b, "%s%d", i ? "," : "", c->fallback[i]);
		lose(o, "fallback to %s (kernel bind never leaves its nodes)", b.s ? b.s : "");
		mp_sb_free(&b);
	}
	if (c->has_weights && c->n_weights) {
		struct mp_sb b;

		mp_sb_init(&b);
		for (unsigned i = 0; i < c->n_weights; i++)
			mp_sb_printf(&b, "%s%d:%u", i ? "," : "", c->weight_node[i], c->weight[i]);
		lose(o,
		     "weights %s (%s has no per-policy weights; the kernel's come from "
		     "/sys/kernel/mm/mempolicy/weighted_interleave)",
		     b.s ? b.s : "", o->form);
		mp_sb_free(&b);
	}
	if (c->order) {
		if (c->order == MP_ORDER_THP)
			snprintf(buf, sizeof(buf), "thp");
		else
			mp_format_size(c->order, buf, sizeof(buf));
		lose(o, "order=%s (%s has no page size)", buf, o->form);
	}
	if (c->phys_lo != 0 || c->phys_hi != UINT64_MAX) {
		char lo[32], hi[32];

		mp_format_size(c->phys_lo, lo, sizeof(lo));
		mp_format_size(c->phys_hi, hi, sizeof(hi));
		lose(o, "phys=%s-%s (no memory policy constrains physical addresses)", lo, hi);
	}
	if (c->kflags & MP_MPOL_F_STATIC_NODES && !flags_ok)
		lose(o, "static (%s has no MPOL_F_STATIC_NODES)", o->form);
	if (c->kflags & MP_MPOL_F_RELATIVE_NODES && !flags_ok)
		lose(o, "relative (%s has no MPOL_F_RELATIVE_NODES)", o->form);
	if (balancing(c) && !balancing_ok)
		lose(o, "automigrate=balancing (%s has no MPOL_F_NUMA_BALANCING)", o->form);
	if (!balancing(c) && c->automigrate != MP_AM_UNSET && c->automigrate != MP_AM_OFF)
		lose(o, "automigrate%s%s (done by mplace, not by a %s policy)", c->automigrate == MP_AM_AUTO ? "" : "=",
		     c->automigrate == MP_AM_AUTO ? "" : mp_automigrate_name(c->automigrate), o->form);
	if (c->replicate)
		lose(o, "replicate (a kernel policy places one copy)");
	if (c->migrate)
		lose(o, "migrate (%s places new pages only; use 'mplace migrate')", o->form);
	if (c->home >= 0)
		lose(o, "home=%d (%s has no home node)", c->home, o->form);
}

/* prefer takes one node in numactl and mpol=; the kernel uses the first. */
static int first_node_lost(struct out *o, const struct mp_compiled *c)
{
	int first = mp_mask_next(&c->nodes, 0);

	if (mp_mask_weight(&c->nodes) > 1) {
		char buf[256];

		mask_text(&c->nodes, buf, sizeof(buf));
		lose(o, "nodes %s after the first (%s prefers one node; prefer-many takes several)", buf, o->form);
	}
	return first;
}

static int fmt_numactl(struct out *o, const struct mp_compiled *c)
{
	char nodes[4096];

	o->form = "numactl";
	mask_text(&c->nodes, nodes, sizeof(nodes));
	switch (c->mode) {
	case MP_MODE_UNSET:
	case MP_MODE_DEFAULT:
		/* numactl without a memory option leaves the default policy */
		break;
	case MP_MODE_LOCAL:
		mp_sb_puts(&o->text, "--localalloc");
		break;
	case MP_MODE_BIND:
		mp_sb_printf(&o->text, "--membind=%s", nodes);
		break;
	case MP_MODE_PREFER:
		mp_sb_printf(&o->text, "--preferred=%d", first_node_lost(o, c));
		break;
	case MP_MODE_PREFER_MANY:
		mp_sb_printf(&o->text, "--preferred-many=%s", nodes);
		break;
	case MP_MODE_INTERLEAVE:
		mp_sb_printf(&o->text, "--interleave=%s", nodes);
		break;
	case MP_MODE_WEIGHTED_INTERLEAVE:
		mp_sb_printf(&o->text, "--weighted-interleave=%s", nodes);
		break;
	case MP_MODE_SPLIT:
		lose(o, "split mode (numactl has no chunked split)");
		return -EXDEV;
	}
	if (balancing(c))
		mp_sb_printf(&o->text, "%s--balancing", o->text.len ? " " : "");
	lose_common(o, c, false, true);
	return 0;
}

static int fmt_systemd(struct out *o, const struct mp_compiled *c)
{
	static const char *const names[] = {
		[MP_MODE_UNSET] = "default", [MP_MODE_DEFAULT] = "default",  [MP_MODE_LOCAL] = "local",
		[MP_MODE_BIND] = "bind",     [MP_MODE_PREFER] = "preferred", [MP_MODE_INTERLEAVE] = "interleave",
	};
	char nodes[4096];

	o->form = "systemd NUMAPolicy=";
	if (c->mode == MP_MODE_PREFER_MANY || c->mode == MP_MODE_WEIGHTED_INTERLEAVE || c->mode == MP_MODE_SPLIT) {
		lose(o, "%s mode (systemd NUMAPolicy= knows default, preferred, bind, interleave and local)",
		     mp_mode_name(c->mode));
		return -EXDEV;
	}
	mp_sb_printf(&o->text, "NUMAPolicy=%s", names[c->mode]);
	if (c->mode == MP_MODE_PREFER) {
		mp_sb_printf(&o->text, "\nNUMAMask=%d", first_node_lost(o, c));
	} else if (needs_nodes(c->mode)) {
		mask_text(&c->nodes, nodes, sizeof(nodes));
		mp_sb_printf(&o->text, "\nNUMAMask=%s", nodes);
	}
	lose_common(o, c, false, false);
	return 0;
}

static int fmt_mpol(struct out *o, const struct mp_compiled *c)
{
	char nodes[4096];
	const char *flag = "";

	o->form = "tmpfs mpol=";
	if (c->mode == MP_MODE_PREFER_MANY || c->mode == MP_MODE_WEIGHTED_INTERLEAVE || c->mode == MP_MODE_SPLIT) {
		lose(o, "%s mode (tmpfs mpol= knows default, prefer, bind, interleave and local)",
		     mp_mode_name(c->mode));
		return -EXDEV;
	}
	if (c->kflags & MP_MPOL_F_STATIC_NODES)
		flag = "=static";
	else if (c->kflags & MP_MPOL_F_RELATIVE_NODES)
		flag = "=relative";
	mask_text(&c->nodes, nodes, sizeof(nodes));
	switch (c->mode) {
	case MP_MODE_UNSET:
	case MP_MODE_DEFAULT:
		mp_sb_puts(&o->text, "mpol=default");
		break;
	case MP_MODE_LOCAL:
		mp_sb_puts(&o->text, "mpol=local");
		break;
	case MP_MODE_PREFER:
		mp_sb_printf(&o->text, "mpol=prefer%s:%d", flag, first_node_lost(o, c));
		break;
	case MP_MODE_BIND:
		mp_sb_printf(&o->text, "mpol=bind%s:%s", flag, nodes);
		break;
	case MP_MODE_INTERLEAVE:
		mp_sb_printf(&o->text, "mpol=interleave%s:%s", flag, nodes);
		break;
	default:
		break;
	}
	lose_common(o, c, needs_nodes(c->mode), false);
	return 0;
}

static int fmt_oci(struct out *o, const struct mp_compiled *c)
{
	static const char *const names[] = {
		[MP_MODE_UNSET] = "MPOL_DEFAULT",	  [MP_MODE_DEFAULT] = "MPOL_DEFAULT",
		[MP_MODE_LOCAL] = "MPOL_LOCAL",		  [MP_MODE_BIND] = "MPOL_BIND",
		[MP_MODE_PREFER] = "MPOL_PREFERRED",	  [MP_MODE_PREFER_MANY] = "MPOL_PREFERRED_MANY",
		[MP_MODE_INTERLEAVE] = "MPOL_INTERLEAVE", [MP_MODE_WEIGHTED_INTERLEAVE] = "MPOL_WEIGHTED_INTERLEAVE",
	};
	char nodes[4096];
	const char *sep = "";

	o->form = "OCI linux.memoryPolicy";
	if (c->mode == MP_MODE_SPLIT) {
		lose(o, "split mode (OCI linux.memoryPolicy has no chunked split)");
		return -EXDEV;
	}
	/* plain JSON, every string a fixed name or a node list: nothing to
	 * escape, and no JSON library needed to write it */
	mp_sb_printf(&o->text, "{\"mode\":\"%s\"", names[c->mode]);
	if (needs_nodes(c->mode)) {
		mask_text(&c->nodes, nodes, sizeof(nodes));
		mp_sb_printf(&o->text, ",\"nodes\":\"%s\"", nodes);
	}
	if (c->kflags & (MP_MPOL_F_STATIC_NODES | MP_MPOL_F_RELATIVE_NODES | MP_MPOL_F_NUMA_BALANCING)) {
		mp_sb_puts(&o->text, ",\"flags\":[");
		if (c->kflags & MP_MPOL_F_STATIC_NODES) {
			mp_sb_printf(&o->text, "%s\"MPOL_F_STATIC_NODES\"", sep);
			sep = ",";
		}
		if (c->kflags & MP_MPOL_F_RELATIVE_NODES) {
			mp_sb_printf(&o->text, "%s\"MPOL_F_RELATIVE_NODES\"", sep);
			sep = ",";
		}
		if (balancing(c))
			mp_sb_printf(&o->text, "%s\"MPOL_F_NUMA_BALANCING\"", sep);
		mp_sb_puts(&o->text, "]");
	}
	mp_sb_puts(&o->text, "}");
	if (!mp_sb_ok(&o->text))
		return -ENOMEM;
	lose_common(o, c, true, true);
	return 0;
}

/* mplace's own text, concrete nodes: everything is expressible. */
static int fmt_mplace(struct out *o, const struct mp_compiled *c)
{
	struct mp_policy p;
	struct mp_ns_term *t = NULL;
	char *s;
	int r = -ENOMEM;

	mp_policy_init(&p);
	p.mode = c->mode == MP_MODE_UNSET ? MP_MODE_DEFAULT : c->mode;
	if (needs_nodes(p.mode)) {
		t = calloc(1, sizeof(*t));
		if (!t)
			goto out;
		t->atom = MP_NS_LIST;
		t->mask = c->nodes;
		p.nodes.terms = t;
		p.nodes.n = 1;
		p.nodes_set = true;
	}
	p.strict = c->strict ? MP_YES : MP_UNSET;
	if (!c->strict && c->n_fallback && needs_nodes(p.mode)) {
		t = calloc(1, sizeof(*t));
		if (!t)
			goto out;
		t->atom = MP_NS_LIST;
		for (unsigned i = 0; i < c->n_fallback; i++)
			mp_mask_set(&t->mask, (unsigned)c->fallback[i]);
		p.fallback_nodes.terms = t;
		p.fallback_nodes.n = 1;
		p.fallback = MP_FB_NODES;
	}
	if (c->has_weights && c->n_weights) {
		p.weight_list = calloc(c->n_weights, sizeof(*p.weight_list));
		if (!p.weight_list)
			goto out;
		for (unsigned i = 0; i < c->n_weights; i++) {
			unsigned at = p.n_weights;

			/* sorted by node, as the canonical form wants */
			while (at > 0 && p.weight_list[at - 1].node > c->weight_node[i]) {
				p.weight_list[at] = p.weight_list[at - 1];
				at--;
			}
			p.weight_list[at].node = (uint16_t)c->weight_node[i];
			p.weight_list[at].weight = c->weight[i];
			p.n_weights++;
		}
		p.weights = MP_W_LIST;
	}
	p.order = c->order;
	if (c->phys_lo != 0 || c->phys_hi != UINT64_MAX) {
		p.phys_set = true;
		p.phys_lo = c->phys_lo;
		p.phys_hi = c->phys_hi;
	}
	if (balancing(c))
		p.automigrate = MP_AM_BALANCING;
	else if (c->automigrate != MP_AM_OFF)
		p.automigrate = c->automigrate;
	p.replicate = c->replicate ? MP_YES : MP_UNSET;
	p.migrate = c->migrate ? MP_YES : MP_UNSET;
	p.home = c->home;
	if (c->kflags & MP_MPOL_F_STATIC_NODES)
		p.nodeflags = MP_NF_STATIC;
	else if (c->kflags & MP_MPOL_F_RELATIVE_NODES)
		p.nodeflags = MP_NF_RELATIVE;
	s = mp_policy_format(&p);
	if (!s)
		goto out;
	mp_sb_puts(&o->text, s);
	free(s);
	r = 0;
out:
	mp_policy_free(&p);
	return r;
}

int mp_compiled_format_as(const struct mp_compiled *c, enum mp_form form, char **ret_text, char **ret_lost)
{
	struct out o = {.form = ""};
	int r;

	if ((unsigned)c->mode > MP_MODE_SPLIT)
		return -EINVAL;
	if (needs_nodes(c->mode) && mp_mask_empty(&c->nodes))
		return -EINVAL;
	mp_sb_init(&o.text);
	mp_sb_init(&o.lost);
	/* allocate and terminate both: "" is a valid text and lost sentence */
	mp_sb_puts(&o.text, "");
	mp_sb_puts(&o.lost, "");
	switch (form) {
	case MP_FORM_MPLACE:
		r = fmt_mplace(&o, c);
		break;
	case MP_FORM_NUMACTL:
		r = fmt_numactl(&o, c);
		break;
	case MP_FORM_SYSTEMD:
		r = fmt_systemd(&o, c);
		break;
	case MP_FORM_MPOL:
		r = fmt_mpol(&o, c);
		break;
	case MP_FORM_OCI:
		r = fmt_oci(&o, c);
		break;
	default:
		r = -EINVAL;
		break;
	}
	if (r < 0 && r != -EXDEV)
		goto fail;
	if (!mp_sb_ok(&o.text) || !mp_sb_ok(&o.lost)) {
		r = -ENOMEM;
		goto fail;
	}
	{
		char *lost = mp_sb_steal(&o.lost), *text = NULL;

		if (!lost) {
			r = -ENOMEM;
			goto fail;
		}
		if (r == 0) {
			text = mp_sb_steal(&o.text);
			if (!text) {
				free(lost);
				r = -ENOMEM;
				goto fail;
			}
		}
		mp_sb_free(&o.text);
		*ret_text = text;
		*ret_lost = lost;
		return r;
	}
fail:
	mp_sb_free(&o.text);
	mp_sb_free(&o.lost);
	return r;
}
