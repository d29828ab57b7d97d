/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target: the compiled policy's one-line wire form (compiled.c), which
 * the preload agent parses from its environment in every process it is
 * loaded into, before main, and from its control socket.  The input bytes up
 * to the first NUL are the line.  A refusal must be -EINVAL with the output
 * untouched.  A line that is accepted must be the writer's own spelling of
 * what it read (the same text back) and read back to the same again,
 * serialising into a short buffer
 * must behave as snprintf does, and splitting a range by its weights (what
 * the agent does next with it) must hand out the whole range to its weight
 * nodes; anything else aborts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "basic/util.h"
#include "core/combine.h"
#include "core/compiled.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Serialises c into a malloc'ed line, checking the length it reports. */
static char *serialize(const struct mp_compiled *c)
{
	int n = mp_compiled_serialize(c, NULL, 0);
	char *s;

	if (n <= 0)
		abort();
	s = malloc((size_t)n + 1);
	if (!s)
		abort();
	if (mp_compiled_serialize(c, s, (size_t)n + 1) != n || strlen(s) != (size_t)n)
		abort();
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_compiled c, again, untouched;
	char *text, *s1, *s2, *cut;
	size_t n, k;
	int r;

	if (size > 65536)
		return 0;
	text = mp_strndup((const char *)data, size);
	if (!text)
		return 0;
	memset(&c, 0xa5, sizeof(c));
	untouched = c;
	r = mp_compiled_deserialize(text, &c);
	if (r < 0) {
		if (r != -EINVAL || memcmp(&c, &untouched, sizeof(c)))
			abort();
		free(text);
		return 0;
	}
	if (r != 0 || c.n_warnings || c.trace.n)
		abort();
	s1 = serialize(&c);
	if (strcmp(s1, text) != 0)
		abort();
	memset(&again, 0x5a, sizeof(again));
	if (mp_compiled_deserialize(s1, &again) < 0)
		abort();
	s2 = serialize(&again);
	if (strcmp(s1, s2) != 0)
		abort();
	/* the split plan: chunks on weight nodes that add up to the range */
	if (c.n_weights) {
		uint64_t unit = 4096, len = unit * (1 + size % 4099) + size % unit, chunk[MP_COMPILED_MAX], sum = 0;
		int node[MP_COMPILED_MAX];
		unsigned m = mp_compiled_split(&c, len, unit, node, chunk, MP_COMPILED_MAX);

		if (!m || m > c.n_weights)
			abort();
		for (unsigned i = 0; i < m; i++) {
			bool known = false;

			for (unsigned j = 0; j < c.n_weights; j++)
				known |= c.weight_node[j] == node[i];
			if (!known || !chunk[i])
				abort();
			sum += chunk[i];
		}
		if (sum != len)
			abort();
	}
	/* a short buffer: the length it needs, and a NUL-terminated prefix */
	n = strlen(s1);
	k = size % (n + 1);
	cut = malloc(k + 1);
	if (!cut)
		abort();
	memset(cut, 'x', k + 1);
	if (mp_compiled_serialize(&c, cut, k) != (int)n || cut[k] != 'x')
		abort();
	if (k && (strncmp(cut, s1, k - 1) != 0 || cut[k - 1] != '\0'))
		abort();
	mp_compiled_free(&again);
	mp_compiled_free(&c);
	free(cut);
	free(s2);
	free(s1);
	free(text);
	return 0;
}
