/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * The kinds of memory inside a process (doc/policy-language.md, "Kinds"),
 * and their names: the configuration's keys, the agent's variables
 * (wire/wire.h), `mplace show` and `mplace set` all spell them from here.
 */
/* Kinds of memory inside a process.  MP_KIND_ALL is the generic "policy" key. */
enum mp_kind {
	MP_KIND_ALL = 0,
	MP_KIND_HEAP,
	MP_KIND_STACK,
	MP_KIND_TEXT,
	MP_KIND_DATA,
	MP_KIND_ANON,
	MP_KIND_FILE,
	MP_KIND_SHM,
	MP_KIND_HUGETLB,
	MP_KIND_MLOCKED,
	MP_KIND_KERNEL,
	MP_KIND__COUNT,
};

/* Indexed by enum mp_kind: "policy", "heap", ... */
extern const char *const mp_kind_names[MP_KIND__COUNT];
const char *mp_kind_name(enum mp_kind k);
/* "heap" -> MP_KIND_HEAP; "file:GLOB" -> MP_KIND_FILE with *ret_glob = "GLOB" (pointer into s). -EINVAL if unknown. */
int mp_kind_parse(const char *s, enum mp_kind *ret, const char **ret_glob);
