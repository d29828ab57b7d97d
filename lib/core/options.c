/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The table of a policy's options (options.h), made from its one list.
 */
#include <string.h>

#include "basic/util.h"
#include "options.h"

const struct mp_option_info mp_options[MP_OPT__COUNT] = {
#define MP_OPTION_INFO(id, n, v, c, h) [MP_OPT_##id] = {.name = n, .value = MP_OV_##v, .config = c, .hint = h},
	MP_OPTIONS(MP_OPTION_INFO)
#undef MP_OPTION_INFO
};

int mp_option_lookup(const char *s, size_t len)
{
	for (int i = 0; i < MP_OPT__COUNT; i++)
		if (mp_options[i].value != MP_OV_SIZED && mp_streqn(s, len, mp_options[i].name))
			return i;
	return -1;
}
