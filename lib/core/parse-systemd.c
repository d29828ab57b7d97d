/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * systemd's NUMAPolicy= and NUMAMask=.
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

/* ---- systemd NUMAPolicy= / NUMAMask= ---------------------------------------- */

/*
 * systemd.exec(5): NUMAPolicy=default|preferred|bind|interleave|local and
 * NUMAMask=NODES|all.  Settings are words separated by blanks or newlines;
 * a repeated setting: the later wins, as in a unit file.  systemd ignores
 * NUMAMask= for default and local, and so do we.
 */
int mp_parse_systemd(const char *text, struct mp_policy *ret, struct mp_diag *d)
{
	static const char hint[] = "write NUMAPolicy=default|preferred|bind|interleave|local and NUMAMask=NODES|all";
	static const struct name_val smodes[] = {
		{"default", MP_MODE_DEFAULT},	    {"preferred", MP_MODE_PREFER}, {"bind", MP_MODE_BIND},
		{"interleave", MP_MODE_INTERLEAVE}, {"local", MP_MODE_LOCAL},
	};
	size_t len = strlen(text), i = 0, mask_pos = 0;
	struct mp_nodeset mask;
	bool have_mask = false;
	int mode = MP_MODE_UNSET, r;
	struct mp_policy p;

	mp_nodeset_init(&mask);
	mp_policy_init(&p);
	for (;;) {
		size_t s, e;

		while (i < len && isspace((unsigned char)text[i]))
			i++;
		if (i == len)
			break;
		s = i;
		while (i < len && !isspace((unsigned char)text[i]))
			i++;
		e = i;
		if (e - s >= 11 && memcmp(text + s, "NUMAPolicy=", 11) == 0) {
			mode = mp_parse_lookup(smodes, MP_ARRAY_SIZE(smodes), text + s + 11, e - s - 11);
			if (mode < 0) {
				r = mp_parse_fail(d, s + 11, hint, "unknown NUMAPolicy= value '%.*s'", Q(e - s - 11),
						  text + s + 11);
				goto out;
			}
		} else if (e - s >= 9 && memcmp(text + s, "NUMAMask=", 9) == 0) {
			struct mp_ns_term t = {0};
			size_t pos;

			if (mp_streqn(text + s + 9, e - s - 9, "all")) {
				t.atom = MP_NS_ALL;
			} else {
				t.atom = MP_NS_LIST;
				if (e - s == 9 || mp_mask_parse(text + s + 9, e - s - 9, &t.mask, &pos) < 0) {
					r = mp_parse_fail(d, s + 9 + (e - s == 9 ? 0 : pos), hint,
							  "bad NUMAMask= value '%.*s'", Q(e - s - 9), text + s + 9);
					goto out;
				}
			}
			mp_nodeset_free(&mask);
			if (mp_parse_ns_from_term(&t, &mask) < 0) {
				r = mp_parse_oom(d, s);
				goto out;
			}
			have_mask = true;
			mask_pos = s;
		} else {
			r = mp_parse_fail(d, s, hint, "'%.*s' is not a NUMAPolicy= or NUMAMask= setting", Q(e - s),
					  text + s);
			goto out;
		}
	}
	(void)mask_pos;
	if (mode != MP_MODE_UNSET)
		mp_parse_set_mode(&p, (enum mp_mode)mode);
	if (have_mask && mode != MP_MODE_DEFAULT && mode != MP_MODE_LOCAL)
		mp_parse_set_nodes(&p, &mask);
	*ret = p;
	r = 0;
	goto done;
out:
	mp_policy_free(&p);
done:
	mp_nodeset_free(&mask);
	return r;
}
