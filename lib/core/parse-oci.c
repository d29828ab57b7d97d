/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The OCI runtime spec's linux.memoryPolicy object (JSON, read with json-c:
 * the one grammar that needs it, so a binary that does not read OCI
 * spellings need not load json-c).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "basic/util.h"
#include "parse.h"
#include "policy.h"

/* ---- OCI linux.memoryPolicy ------------------------------------------------ */

/* json-c keeps no offsets for values: point at the key, or at the value text
 * when it can be found after the key. */
static size_t json_pos(const char *text, const char *key, const char *val)
{
	char needle[80];
	const char *k, *v;

	snprintf(needle, sizeof(needle), "\"%s\"", key);
	k = strstr(text, needle);
	if (!k)
		return 0;
	if (val) {
		snprintf(needle, sizeof(needle), "\"%s\"", val);
		v = strstr(k + strlen(key) + 2, needle);
		if (v)
			return (size_t)(v - text) + 1;
	}
	return (size_t)(k - text);
}

int mp_parse_oci(const char *text, struct mp_policy *ret, struct mp_diag *d)
{
	static const char hint[] = "OCI linux.memoryPolicy: {\"mode\":\"MPOL_BIND\",\"nodes\":\"0-1\",\"flags\":[...]}";
	static const struct name_val omodes[] = {
		{"MPOL_DEFAULT", MP_MODE_DEFAULT},	 {"MPOL_BIND", MP_MODE_BIND},
		{"MPOL_INTERLEAVE", MP_MODE_INTERLEAVE}, {"MPOL_WEIGHTED_INTERLEAVE", MP_MODE_WEIGHTED_INTERLEAVE},
		{"MPOL_PREFERRED", MP_MODE_PREFER},	 {"MPOL_PREFERRED_MANY", MP_MODE_PREFER_MANY},
		{"MPOL_LOCAL", MP_MODE_LOCAL},
	};
	struct json_tokener *tok = NULL;
	struct json_object *obj = NULL, *mode_o = NULL, *nodes_o = NULL, *flags_o = NULL;
	size_t len = strlen(text);
	struct mp_policy p;
	const char *ms;
	int m, r;

	mp_policy_init(&p);
	tok = json_tokener_new();
	if (!tok)
		return mp_parse_oom(d, 0);
	obj = json_tokener_parse_ex(tok, text, (int)(len > INT32_MAX ? INT32_MAX : len));
	if (!obj || json_tokener_get_error(tok) != json_tokener_success) {
		enum json_tokener_error je = json_tokener_get_error(tok);

		r = mp_parse_fail(d, json_tokener_get_parse_end(tok), hint, "bad JSON: %s",
				  je == json_tokener_continue ? "unexpected end" : json_tokener_error_desc(je));
		goto out;
	}
	for (size_t k = json_tokener_get_parse_end(tok); k < len; k++)
		if (!isspace((unsigned char)text[k])) {
			r = mp_parse_fail(d, k, hint, "text after the JSON object");
			goto out;
		}
	if (!json_object_is_type(obj, json_type_object)) {
		r = mp_parse_fail(d, 0, hint, "the memory policy must be a JSON object");
		goto out;
	}
	json_object_object_foreach(obj, key, val)
	{
		if (strcmp(key, "mode") == 0) {
			mode_o = val;
		} else if (strcmp(key, "nodes") == 0) {
			nodes_o = val;
		} else if (strcmp(key, "flags") == 0) {
			flags_o = val;
		} else {
			r = mp_parse_fail(d, json_pos(text, key, NULL), "keys: mode, nodes, flags",
					  "unknown key '%.60s'", key);
			goto out;
		}
	}
	if (!mode_o || !json_object_is_type(mode_o, json_type_string)) {
		r = mp_parse_fail(d, mode_o ? json_pos(text, "mode", NULL) : 0, hint,
				  "\"mode\" must be a string and is required");
		goto out;
	}
	ms = json_object_get_string(mode_o);
	/* lengths, not strlen: "MPOL_BIND\u0000x" is not MPOL_BIND */
	m = mp_parse_lookup(omodes, MP_ARRAY_SIZE(omodes), ms, (size_t)json_object_get_string_len(mode_o));
	if (m < 0 && strlen(ms) != (size_t)json_object_get_string_len(mode_o)) {
		r = mp_parse_fail(d, json_pos(text, "mode", NULL), hint, "\"mode\" contains a NUL character");
		goto out;
	}
	if (m < 0) {
		r = mp_parse_fail(d, json_pos(text, "mode", ms),
				  "modes: MPOL_DEFAULT, MPOL_BIND, MPOL_INTERLEAVE, MPOL_WEIGHTED_INTERLEAVE, "
				  "MPOL_PREFERRED, MPOL_PREFERRED_MANY, MPOL_LOCAL",
				  "unknown mode '%.60s'", ms);
		goto out;
	}
	mp_parse_set_mode(&p, (enum mp_mode)m);
	if (nodes_o) {
		struct mp_ns_term t = {.atom = MP_NS_LIST};
		struct mp_nodeset ns;
		const char *n;
		size_t pos;

		if (!json_object_is_type(nodes_o, json_type_string)) {
			r = mp_parse_fail(d, json_pos(text, "nodes", NULL), hint,
					  "\"nodes\" must be a string such as \"0-1\"");
			goto out;
		}
		n = json_object_get_string(nodes_o);
		if (m == MP_MODE_DEFAULT || m == MP_MODE_LOCAL) {
			r = mp_parse_fail(d, json_pos(text, "nodes", NULL), "drop \"nodes\" for this mode",
					  "mode %s takes no nodes", ms);
			goto out;
		}
		if (!*n || mp_mask_parse(n, (size_t)json_object_get_string_len(nodes_o), &t.mask, &pos) < 0) {
			r = mp_parse_fail(d, json_pos(text, "nodes", n), "nodes are a list such as \"0-3,7\"",
					  "bad nodes '%.60s'", n);
			goto out;
		}
		if (mp_parse_ns_from_term(&t, &ns) < 0) {
			r = mp_parse_oom(d, 0);
			goto out;
		}
		mp_parse_set_nodes(&p, &ns);
	} else if (m != MP_MODE_DEFAULT && m != MP_MODE_LOCAL) {
		r = mp_parse_fail(d, json_pos(text, "mode", NULL),
				  "add \"nodes\":\"0-1\" (the runtime spec requires it for this mode)",
				  "mode %s needs \"nodes\"", ms);
		goto out;
	}
	if (flags_o) {
		if (!json_object_is_type(flags_o, json_type_array)) {
			r = mp_parse_fail(d, json_pos(text, "flags", NULL), hint,
					  "\"flags\" must be an array of strings");
			goto out;
		}
		for (size_t k = 0; k < json_object_array_length(flags_o); k++) {
			struct json_object *f = json_object_array_get_idx(flags_o, k);
			const char *fs = json_object_is_type(f, json_type_string) ? json_object_get_string(f) : NULL;

			if (fs && strlen(fs) != (size_t)json_object_get_string_len(f))
				fs = "(contains NUL)";
			enum mp_nodeflags nf = MP_NF_UNSET;

			if (fs && strcmp(fs, "MPOL_F_STATIC_NODES") == 0) {
				nf = MP_NF_STATIC;
			} else if (fs && strcmp(fs, "MPOL_F_RELATIVE_NODES") == 0) {
				nf = MP_NF_RELATIVE;
			} else if (fs && strcmp(fs, "MPOL_F_NUMA_BALANCING") == 0) {
				p.automigrate = MP_AM_BALANCING;
			} else {
				r = mp_parse_fail(
					d, json_pos(text, "flags", fs),
					"flags: MPOL_F_STATIC_NODES, MPOL_F_RELATIVE_NODES, MPOL_F_NUMA_BALANCING",
					"unknown flag '%.60s'", fs ? fs : "(not a string)");
				goto out;
			}
			if (nf != MP_NF_UNSET) {
				if (p.nodeflags != MP_NF_UNSET && p.nodeflags != nf) {
					r = mp_parse_fail(
						d, json_pos(text, "flags", fs), "use one of the two",
						"MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other");
					goto out;
				}
				p.nodeflags = nf;
			}
		}
	}
	json_object_put(obj);
	json_tokener_free(tok);
	*ret = p;
	return 0;
out:
	json_object_put(obj);
	json_tokener_free(tok);
	mp_policy_free(&p);
	return r;
}
