/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The installed API, linked against libmplace.so as a program would be: only
 * what the version script exports is reachable, and the conventions hold
 * (outputs untouched on failure, reasons in a caller-sized error struct).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mplace.h"

int main(void)
{
	struct mplace_policy *p = (struct mplace_policy *)0x1, *q;
	struct mplace_error err = {.sz = sizeof(err)};
	struct mplace_compiled *c = NULL;
	struct mplace_topo *t = NULL;
	char *text = NULL;
	int nodes[8];

	CHECK_STR(mplace_version(), "0.1.0");
	CHECK(mplace_policy_parse("bind:0-1 strcit", &p, &err) == -EINVAL);
	CHECK(p == (struct mplace_policy *)0x1);
	CHECK(err.pos == 9 && strstr(err.message, "strcit"));

	CHECK(mplace_policy_parse("interleave:tier:fast weights=auto", &p, &err) == 0);
	CHECK(mplace_policy_format(p, &text) == 0);
	CHECK_STR(text, "interleave:tier:fast weights=auto");
	free(text);

	CHECK(mplace_topo_load(MPLACE_SOURCE_DIR "/tests/data/topo/2s-cxl", &t) == 0);
	CHECK(mplace_topo_nodes(t, nodes, 8) == 4);
	CHECK(mplace_resolve(p, t, NULL, &c, &err) == 0);
	CHECK_STR(mplace_compiled_mode(c), "weighted-interleave");
	CHECK(mplace_compiled_nodes(c, nodes, 8) == 2 && nodes[0] == 0 && nodes[1] == 1);
	CHECK(mplace_compiled_warnings(c) == 0);
	mplace_compiled_free(c);

	/* a strict failure: -ENOENT and a reason; the output untouched */
	CHECK(mplace_policy_parse("bind:7 strict", &q, &err) == 0);
	c = (struct mplace_compiled *)0x2;
	CHECK(mplace_resolve(q, t, NULL, &c, &err) == -ENOENT);
	CHECK(c == (struct mplace_compiled *)0x2 && strstr(err.message, "node 7"));
	/* combination through the API: a more specific scope cannot escape allow= */
	{
		struct mplace_policy *g;
		MPLACE_OPTS(mplace_resolve_opts, o, .has_local_node = 1, .local_node = 1);

		CHECK(mplace_policy_parse("allow=0-1", &g, &err) == 0);
		CHECK(mplace_policy_combine(g, p) == 0);
		CHECK(mplace_resolve(g, t, &o, &c, &err) == 0);
		CHECK(mplace_compiled_nodes(c, nodes, 8) == 2);
		mplace_compiled_free(c);
		mplace_policy_free(g);
	}
	/* an old caller's smaller error struct is not written past its size */
	{
		struct {
			struct mplace_error e;
			char guard[8];
		} small;

		memset(&small, 0x5a, sizeof(small));
		small.e.sz = offsetof(struct mplace_error, hint);
		CHECK(mplace_resolve(q, t, NULL, &c, &small.e) == -ENOENT);
		CHECK((unsigned char)small.e.hint[0] == 0x5a && (unsigned char)small.guard[0] == 0x5a);
	}
	mplace_policy_free(q);
	mplace_policy_free(p);
	mplace_topo_free(t);
	return check_status();
}
