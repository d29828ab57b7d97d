/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: node-set expressions.  The bytes are passed with their length
 * (NULs included: the parser takes a counted string).  A parsed set must
 * format to text that parses back to an equal set and formats identically;
 * an error must point inside the input.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_nodeset ns, again, cp;
	struct mp_diag d;
	char *s1, *s2;
	int r;

	if (size > 4096)
		return 0;
	r = mp_nodeset_parse((const char *)data, size, &ns, &d);
	if (r < 0) {
		if (r == -EINVAL && (d.pos > size || !d.msg[0]))
			abort();
		return 0;
	}
	if (ns.n == 0)
		abort(); /* an empty node set is an error, never an empty result */
	s1 = mp_nodeset_format(&ns);
	if (!s1)
		abort();
	if (mp_nodeset_parse(s1, strlen(s1), &again, &d) < 0 || !mp_nodeset_equal(&ns, &again))
		abort();
	s2 = mp_nodeset_format(&again);
	if (!s2 || strcmp(s1, s2) != 0)
		abort();
	if (mp_nodeset_copy(&cp, &ns) < 0 || !mp_nodeset_equal(&cp, &ns))
		abort();
	mp_nodeset_free(&cp);
	mp_nodeset_free(&again);
	mp_nodeset_free(&ns);
	free(s1);
	free(s2);
	return 0;
}
