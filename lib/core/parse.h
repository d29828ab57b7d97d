/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * What the grammars of core/parse*.c share (not installed, not for other
 * layers): the diagnostics, the node-set reader, the working policy's
 * setters, and each grammar's entry.  One grammar a file:
 *
 *   parse.c          diagnostics, setters, which spelling a text is, entry points
 *   parse-nodeset.c  node sets (0-3,7 tier:fast best:bandwidth near:... !2 +0-1)
 *   parse-mplace.c   the mplace language (mode:nodeset options presets)
 *   parse-numactl.c  numactl's memory options, and numactl's node strings
 *   parse-mpol.c     tmpfs mpol=
 *   parse-systemd.c  systemd NUMAPolicy= / NUMAMask=
 *   parse-oci.c      OCI linux.memoryPolicy (JSON, json-c)
 *
 * Every grammar reads into the same working policy through the same
 * setters, so the result is canonical whatever the spelling (policy.h).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

#define MAX_TIER 255 /* memory tiers are ranked 0..n-1; n is small */
#define MAX_DIST 255 /* ACPI SLIT distances are one byte */

/* Quote at most this much of a token in messages. */
#define Q(len) ((int)((len) > 60 ? 60 : (len)))

/* ---- diagnostics (parse.c): fill d, return -EINVAL or -ENOMEM */
__attribute__((format(printf, 4, 5))) int mp_parse_fail(struct mp_diag *d, size_t pos, const char *hint,
							const char *fmt, ...);
int mp_parse_oom(struct mp_diag *d, size_t pos);
/* The closest word of a NULL-terminated list, when it is close enough to be a typo. */
const char *mp_parse_near_miss(const char *s, size_t len, const char *const *words);
/* "did you mean 'X'? " + rest, or just rest. */
const char *mp_parse_suggest(char *buf, size_t size, const char *s, size_t len, const char *const *words,
			     const char *rest);

/* A name and its value, looked up by a counted string (-1 when absent). */
struct name_val {
	const char *name;
	int val;
};
int mp_parse_lookup(const struct name_val *t, size_t n, const char *s, size_t len);

/* ---- node sets (parse-nodeset.c) */
bool mp_parse_device_char_ok(char c);
/* s[0, len) at offset base of the whole text, into *ret (canonical). */
int mp_parse_ns_at(const char *s, size_t len, size_t base, struct mp_nodeset *ret, struct mp_diag *d);
/* One term as a node set; the term's string is taken over. */
int mp_parse_ns_from_term(struct mp_ns_term *t, struct mp_nodeset *ret);

/* ---- the working policy's setters (parse.c) */
void mp_parse_ns_move(struct mp_nodeset *dst, struct mp_nodeset *src);
void mp_parse_set_nodes(struct mp_policy *p, struct mp_nodeset *ns);
int mp_parse_add_allow(struct mp_policy *p, struct mp_nodeset *ns);
int mp_parse_add_order_nodes(struct mp_policy *p, uint64_t size, struct mp_nodeset *ns);
void mp_parse_set_mode(struct mp_policy *p, enum mp_mode m);

/* ---- the grammars: 0, or -EINVAL/-ENOMEM with d filled and *ret untouched */
int mp_parse_mplace(const char *text, struct mp_policy *ret, struct mp_diag *d);
int mp_parse_numactl(const char *text, struct mp_policy *ret, struct mp_diag *d);
int mp_parse_mpol(const char *text, struct mp_policy *ret, struct mp_diag *d);
int mp_parse_systemd(const char *text, struct mp_policy *ret, struct mp_diag *d);
int mp_parse_oci(const char *text, struct mp_policy *ret, struct mp_diag *d);
