/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kinds of memory and their names (kind.h).
 */
#include <errno.h>
#include <string.h>

#include "basic/util.h"
#include "kind.h"

/* MP_KIND_ALL is spelled "policy", the generic key, so names round-trip. */
const char *const mp_kind_names[MP_KIND__COUNT] = {
	[MP_KIND_ALL] = "policy",      [MP_KIND_HEAP] = "heap",	    [MP_KIND_STACK] = "stack",
	[MP_KIND_TEXT] = "text",       [MP_KIND_DATA] = "data",	    [MP_KIND_ANON] = "anon",
	[MP_KIND_FILE] = "file",       [MP_KIND_SHM] = "shm",	    [MP_KIND_HUGETLB] = "hugetlb",
	[MP_KIND_MLOCKED] = "mlocked", [MP_KIND_KERNEL] = "kernel",
};

const char *mp_kind_name(enum mp_kind k)
{
	if ((unsigned)k < MP_ARRAY_SIZE(mp_kind_names) && mp_kind_names[k])
		return mp_kind_names[k];
	return "unknown";
}

int mp_kind_parse(const char *s, enum mp_kind *ret, const char **ret_glob)
{
	const char *colon;
	size_t n;

	if (!s)
		return -EINVAL;
	colon = strchr(s, ':');
	n = colon ? (size_t)(colon - s) : strlen(s);
	for (unsigned k = 0; k < MP_KIND__COUNT; k++) {
		if (!mp_streqn(s, n, mp_kind_names[k]))
			continue;
		if (k == MP_KIND_FILE) {
			/* a file policy without a pattern would silently cover every file */
			if (!colon || !colon[1])
				return -EINVAL;
		} else if (k == MP_KIND_SHM) {
			if (colon && !colon[1])
				return -EINVAL;
		} else if (colon) {
			return -EINVAL;
		}
		*ret = (enum mp_kind)k;
		if (ret_glob)
			*ret_glob = colon ? colon + 1 : NULL;
		return 0;
	}
	return -EINVAL;
}
