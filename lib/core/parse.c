/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 *
 * This file: the diagnostics, the working policy's setters, and which
 * spelling a text is in; each grammar is a file of its own (parse.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/util.h"
#include "parse.h"
#include "policy.h"

/* ---- diagnostics ------------------------------------------------------- */

int mp_parse_fail(struct mp_diag *d, size_t pos, const char *hint, const char *fmt, ...)
{
	va_list ap;

	if (!d)
		return -EINVAL;
	d->pos = (unsigned)pos;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	snprintf(d->hint, sizeof(d->hint), "%s", hint ? hint : "");
	return -EINVAL;
}

int mp_parse_oom(struct mp_diag *d, size_t pos)
{
	if (d) {
		d->pos = (unsigned)pos;
		snprintf(d->msg, sizeof(d->msg), "out of memory");
		d->hint[0] = '\0';
	}
	return -ENOMEM;
}

/* The closest word of a NULL-terminated list, when it is close enough to be a typo. */
const char *mp_parse_near_miss(const char *s, size_t len, const char *const *words)
{
	const char *best = NULL;
	unsigned bd = 3;

	if (len < 3)
		return NULL;
	for (unsigned i = 0; words[i]; i++) {
		unsigned d = mp_edit_distance(s, len, words[i]);

		if (d < bd) {
			bd = d;
			best = words[i];
		}
	}
	return best;
}

/* "did you mean 'X'? " + rest, or just rest. */
const char *mp_parse_suggest(char *buf, size_t size, const char *s, size_t len, const char *const *words,
			     const char *rest)
{
	const char *m = mp_parse_near_miss(s, len, words);

	if (m)
		snprintf(buf, size, "did you mean '%s'? %s", m, rest);
	else
		snprintf(buf, size, "%s", rest);
	return buf;
}

/* ---- the working policy and its setters ------------------------------------ */

/* Replaces *dst with *src (taken). */
void mp_parse_ns_move(struct mp_nodeset *dst, struct mp_nodeset *src)
{
	mp_nodeset_free(dst);
	*dst = *src;
	mp_nodeset_init(src);
}

void mp_parse_set_nodes(struct mp_policy *p, struct mp_nodeset *ns)
{
	mp_parse_ns_move(&p->nodes, ns);
	p->nodes_set = true;
}

/* Conjunction: appended unless an equal set is there already.  Takes ns. */
int mp_parse_add_allow(struct mp_policy *p, struct mp_nodeset *ns)
{
	struct mp_nodeset *n;

	for (unsigned i = 0; i < p->n_allow; i++)
		if (mp_nodeset_equal(&p->allow[i], ns)) {
			mp_nodeset_free(ns);
			return 0;
		}
	n = realloc(p->allow, (p->n_allow + 1) * sizeof(*n));
	if (!n) {
		mp_nodeset_free(ns);
		return -ENOMEM;
	}
	p->allow = n;
	p->allow[p->n_allow++] = *ns;
	mp_nodeset_init(ns);
	return 0;
}

/* Kept sorted by page size (thp, whose value is 1, first); equal sizes keep
 * input order; exact duplicates are dropped.  Takes ns. */
int mp_parse_add_order_nodes(struct mp_policy *p, uint64_t size, struct mp_nodeset *ns)
{
	struct mp_order_constraint *n;
	unsigned at;

	for (unsigned i = 0; i < p->n_order_nodes; i++)
		if (p->order_nodes[i].page_size == size && mp_nodeset_equal(&p->order_nodes[i].nodes, ns)) {
			mp_nodeset_free(ns);
			return 0;
		}
	n = realloc(p->order_nodes, (p->n_order_nodes + 1) * sizeof(*n));
	if (!n) {
		mp_nodeset_free(ns);
		return -ENOMEM;
	}
	p->order_nodes = n;
	for (at = p->n_order_nodes; at > 0 && n[at - 1].page_size > size; at--)
		;
	memmove(&n[at + 1], &n[at], (p->n_order_nodes - at) * sizeof(*n));
	n[at].page_size = size;
	n[at].nodes = *ns;
	p->n_order_nodes++;
	mp_nodeset_init(ns);
	return 0;
}

void mp_parse_set_mode(struct mp_policy *p, enum mp_mode m)
{
	p->mode = m;
	/* a mode without a node set inherits the nodes of the general scope */
	mp_nodeset_free(&p->nodes);
	p->nodes_set = false;
}

/* ---- entry points --------------------------------------------------------------- */

static bool word_starts(const char *s, size_t len, const char *prefix)
{
	size_t pl = strlen(prefix);

	return len >= pl && memcmp(s, prefix, pl) == 0;
}

/*
 * Which spelling the text is in.  Every rule looks at something no mplace
 * text can have, so a canonical text is always read back as mplace: no
 * mplace word starts with '-', '{', "mpol=", "NUMAPolicy=" or "NUMAMask=",
 * and no mplace first word is MODE=static or MODE=relative.
 */
static enum mp_form detect(const char *text)
{
	size_t i = 0, s, e;

	while (isspace((unsigned char)text[i]))
		i++;
	if (text[i] == '-')
		return MP_FORM_NUMACTL;
	if (text[i] == '{')
		return MP_FORM_OCI;
	s = i;
	while (text[i] && !isspace((unsigned char)text[i]))
		i++;
	e = i;
	if (word_starts(text + s, e - s, "mpol="))
		return MP_FORM_MPOL;
	{
		static const char *const kmodes[] = {"default", "prefer", "bind", "interleave", "local"};
		const char *eq = memchr(text + s, '=', e - s);
		bool kmode = false;

		for (size_t k = 0; eq && k < MP_ARRAY_SIZE(kmodes); k++)
			kmode |= mp_streqn(text + s, (size_t)(eq - text - s), kmodes[k]);
		if (kmode && (word_starts(eq + 1, (size_t)(text + e - eq - 1), "static") ||
			      word_starts(eq + 1, (size_t)(text + e - eq - 1), "relative"))) {
			size_t rest = (size_t)(text + e - eq - 1);
			size_t fl = word_starts(eq + 1, rest, "static") ? 6 : 8;

			if (rest == fl || eq[1 + fl] == ':')
				return MP_FORM_MPOL;
		}
	}
	for (i = s;;) {
		while (text[i] && isspace((unsigned char)text[i]))
			i++;
		if (!text[i])
			break;
		s = i;
		while (text[i] && !isspace((unsigned char)text[i]))
			i++;
		if (word_starts(text + s, i - s, "NUMAPolicy=") || word_starts(text + s, i - s, "NUMAMask="))
			return MP_FORM_SYSTEMD;
	}
	return MP_FORM_MPLACE;
}

int mp_policy_parse_as(enum mp_form form, const char *text, struct mp_policy *ret, struct mp_diag *diag)
{
	if (!text || !ret)
		return mp_parse_fail(diag, 0, NULL, "no policy text");
	if (form == MP_FORM_AUTO)
		form = detect(text);
	switch (form) {
	case MP_FORM_MPLACE:
		return mp_parse_mplace(text, ret, diag);
	case MP_FORM_NUMACTL:
		return mp_parse_numactl(text, ret, diag);
	case MP_FORM_MPOL:
		return mp_parse_mpol(text, ret, diag);
	case MP_FORM_SYSTEMD:
		return mp_parse_systemd(text, ret, diag);
	case MP_FORM_OCI:
		return mp_parse_oci(text, ret, diag);
	default:
		return mp_parse_fail(diag, 0, NULL, "unknown policy form %d", (int)form);
	}
}

int mp_policy_parse(const char *text, struct mp_policy *ret, struct mp_diag *diag)
{
	return mp_policy_parse_as(MP_FORM_AUTO, text, ret, diag);
}
