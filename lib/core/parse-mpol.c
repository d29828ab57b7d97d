/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel's tmpfs mpol= spelling: MODE[=static|relative][:NODES].
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

/* ---- tmpfs mpol= ------------------------------------------------------------ */

/*
 * The kernel's mpol_parse_str(): MODE[=static|relative][:NODELIST].  As the
 * kernel reads it: "prefer" takes one node and without one means local
 * allocation; "interleave" without nodes means every node with memory;
 * "bind" needs nodes; "default" and "local" take none.
 */
int mp_parse_mpol(const char *text, struct mp_policy *ret, struct mp_diag *d)
{
	static const char hint[] = "tmpfs mpol=: default, local, prefer:N, bind:NODES, interleave[:NODES], "
				   "with =static or =relative after the mode";
	static const struct name_val kmodes[] = {
		{"default", MP_MODE_DEFAULT},	    {"prefer", MP_MODE_PREFER}, {"bind", MP_MODE_BIND},
		{"interleave", MP_MODE_INTERLEAVE}, {"local", MP_MODE_LOCAL},
	};
	size_t len = strlen(text), s = 0, e, me, fe;
	struct mp_policy p;
	struct mp_ns_term t = {0};
	struct mp_nodeset ns;
	int m, r;

	while (s < len && isspace((unsigned char)text[s]))
		s++;
	for (e = len; e > s && isspace((unsigned char)text[e - 1]); e--)
		;
	if (e - s >= 5 && memcmp(text + s, "mpol=", 5) == 0)
		s += 5;
	for (size_t k = s; k < e; k++)
		if (isspace((unsigned char)text[k]))
			return mp_parse_fail(d, k, hint, "mpol= is one word");
	for (me = s; me < e && text[me] != '=' && text[me] != ':'; me++)
		;
	m = mp_parse_lookup(kmodes, MP_ARRAY_SIZE(kmodes), text + s, me - s);
	if (m < 0)
		return mp_parse_fail(d, s, hint, "unknown tmpfs mode '%.*s'", Q(me - s), text + s);
	mp_policy_init(&p);
	mp_parse_set_mode(&p, (enum mp_mode)m);
	fe = me;
	if (me < e && text[me] == '=') {
		for (fe = me + 1; fe < e && text[fe] != ':'; fe++)
			;
		if (mp_streqn(text + me + 1, fe - me - 1, "static")) {
			p.nodeflags = MP_NF_STATIC;
		} else if (mp_streqn(text + me + 1, fe - me - 1, "relative")) {
			p.nodeflags = MP_NF_RELATIVE;
		} else {
			r = mp_parse_fail(d, me + 1, hint, "unknown mode flag '%.*s'", Q(fe - me - 1), text + me + 1);
			goto out;
		}
		if (m == MP_MODE_DEFAULT || m == MP_MODE_LOCAL) {
			r = mp_parse_fail(d, me + 1, hint, "mode '%s' takes no flags", mp_mode_name(m));
			goto out;
		}
	}
	if (fe == e) {
		if (m == MP_MODE_BIND) {
			r = mp_parse_fail(d, fe, hint, "tmpfs bind needs a node list");
			goto out;
		}
		if (p.nodeflags != MP_NF_UNSET) {
			r = mp_parse_fail(d, fe, hint, "a mode flag needs a node list");
			goto out;
		}
		if (m == MP_MODE_PREFER)
			mp_parse_set_mode(&p, MP_MODE_LOCAL);
		if (m == MP_MODE_INTERLEAVE) {
			t.atom = MP_NS_ALL;
			if (mp_parse_ns_from_term(&t, &ns) < 0) {
				r = mp_parse_oom(d, s);
				goto out;
			}
			mp_parse_set_nodes(&p, &ns);
		}
		*ret = p;
		return 0;
	}
	/* text[fe] == ':' */
	if (m == MP_MODE_DEFAULT || m == MP_MODE_LOCAL) {
		r = mp_parse_fail(d, fe, hint, "mode '%s' takes no node list", mp_mode_name(m));
		goto out;
	}
	t.atom = MP_NS_LIST;
	{
		size_t pos;

		if (fe + 1 == e || mp_mask_parse(text + fe + 1, e - fe - 1, &t.mask, &pos) < 0) {
			r = mp_parse_fail(d, fe + 1 + (fe + 1 == e ? 0 : pos), hint, "bad node list '%.*s'",
					  Q(e - fe - 1), text + fe + 1);
			goto out;
		}
	}
	if (m == MP_MODE_PREFER && mp_mask_weight(&t.mask) != 1) {
		r = mp_parse_fail(d, fe + 1, hint, "tmpfs prefer takes one node");
		goto out;
	}
	if (mp_parse_ns_from_term(&t, &ns) < 0) {
		r = mp_parse_oom(d, s);
		goto out;
	}
	mp_parse_set_nodes(&p, &ns);
	*ret = p;
	return 0;
out:
	mp_policy_free(&p);
	return r;
}
