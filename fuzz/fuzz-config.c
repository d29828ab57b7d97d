/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target for the configuration reader: any bytes, counted and not
 * NUL-terminated, must give either a valid config or errors with positions
 * inside the input, never a crash, a leak or a read past the end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_config_error errs[8];
	struct mp_config c;
	unsigned lines = 1;
	int r;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	mp_config_init(&c);
	r = mp_config_parse(&c, "fuzz.conf", (const char *)data, size, errs, 8);
	if (r > 0) {
		/* a file with errors adds nothing, and each error is on a line that exists */
		if (c.n_scopes)
			abort();
		for (int i = 0; i < r && i < 8; i++)
			if (!errs[i].line || errs[i].line > lines || !errs[i].col || !errs[i].msg[0])
				abort();
	}
	if (r == 0) {
		for (unsigned i = 0; i < c.n_scopes; i++)
			for (unsigned j = 0; j < c.scopes[i].n_rules; j++)
				if (!c.scopes[i].rules[j].key || !c.scopes[i].rules[j].text ||
				    c.scopes[i].rules[j].line > lines)
					abort();
	}
	mp_config_free(&c);
	return 0;
}
