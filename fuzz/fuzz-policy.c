/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: policy text in any spelling.  The input bytes are the text
 * (up to the first NUL).  Whatever parses must round-trip: format(p) parses
 * back to an equal policy and formats to the same text; anything else aborts.
 * An error must carry a position inside the text and a message.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "basic/util.h"
#include "core/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_policy p, q, cp;
	struct mp_diag d;
	char *text, *s1, *s2;
	int r;

	if (size > 4096)
		return 0;
	text = mp_strndup((const char *)data, size);
	if (!text)
		return 0;
	r = mp_policy_parse(text, &p, &d);
	if (r < 0) {
		if (r != -EINVAL && r != -ENOMEM)
			abort();
		if (r == -EINVAL && (d.pos > strlen(text) || !d.msg[0]))
			abort();
		free(text);
		return 0;
	}
	s1 = mp_policy_format(&p);
	if (!s1)
		abort();
	if (mp_policy_parse_as(MP_FORM_MPLACE, s1, &q, &d) < 0)
		abort();
	if (!mp_policy_equal(&p, &q))
		abort();
	s2 = mp_policy_format(&q);
	if (!s2 || strcmp(s1, s2) != 0)
		abort();
	/* the canonical text must also be detected as mplace text */
	mp_policy_free(&q);
	if (mp_policy_parse(s1, &q, &d) < 0 || !mp_policy_equal(&p, &q))
		abort();
	if (mp_policy_copy(&cp, &p) < 0 || !mp_policy_equal(&cp, &p))
		abort();
	mp_policy_free(&cp);
	mp_policy_free(&q);
	mp_policy_free(&p);
	free(s1);
	free(s2);
	free(text);
	return 0;
}
