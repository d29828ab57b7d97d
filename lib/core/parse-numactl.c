/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * numactl's memory options as a policy (--membind, --interleave, ...), and
 * numactl's node strings, which `mplace numactl` also reads for -N and -C.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/util.h"
#include "parse.h"
#include "policy.h"

/* ---- numactl options ------------------------------------------------------ */

/*
 * A numactl node string: "all", "LIST", "!LIST" (every node but LIST), "+LIST"
 * (indices into the cpuset's nodes), "!+LIST", and libnuma's device forms
 * "netdev:IF", "pci:BDF", "block:DEV".  The prefixes apply to the whole
 * string in numactl; in our node sets they apply per term, so they are
 * mapped onto one term here rather than passed through as text.
 */
int mp_numactl_nodes_parse(const char *s, size_t len, size_t base, struct mp_nodeset *ret, struct mp_diag *d)
{
	static const char hint[] = "numactl node strings: all, 0-3,7, !LIST, +LIST, netdev:IF, pci:BDF, block:DEV";
	static const struct {
		const char *numactl, *ours;
	} devs[] = {{"netdev:", "net:"}, {"pci:", "pci:"}, {"block:", "block:"}};
	struct mp_ns_term t = {0};
	size_t off = 0, pos;

	if (len == 0)
		return mp_parse_fail(d, base, hint, "empty node string");
	if (mp_streqn(s, len, "all")) {
		t.atom = MP_NS_ALL;
		goto done;
	}
	for (size_t i = 0; i < MP_ARRAY_SIZE(devs); i++) {
		size_t pl = strlen(devs[i].numactl);

		if (len > pl && memcmp(s, devs[i].numactl, pl) == 0) {
			for (size_t k = pl; k < len; k++)
				if (!mp_parse_device_char_ok(s[k]))
					return mp_parse_fail(d, base + k, hint, "bad character in device name '%.*s'",
							     Q(len - pl), s + pl);
			t.atom = MP_NS_NEAR;
			if (asprintf(&t.str, "%s%.*s", devs[i].ours, (int)(len - pl), s + pl) < 0)
				return mp_parse_oom(d, base);
			goto done;
		}
	}
	if (s[off] == '!') {
		t.neg = true;
		off++;
	}
	t.atom = MP_NS_LIST;
	if (off < len && s[off] == '+') {
		t.atom = MP_NS_RELATIVE;
		off++;
	}
	if (off == len)
		return mp_parse_fail(d, base + off, hint, "missing node list in '%.*s'", Q(len), s);
	if (mp_mask_parse(s + off, len - off, &t.mask, &pos) < 0)
		return mp_parse_fail(d, base + off + pos, hint, "bad node string '%.*s'", Q(len), s);
done:
	if (mp_parse_ns_from_term(&t, ret) < 0) {
		free(t.str);
		return mp_parse_oom(d, base);
	}
	return 0;
}

enum na_kind { NA_NODES, NA_NODE, NA_NONE };

static const struct {
	const char *lng;
	char shrt;
	int mode; /* -1: --balancing; -2: a CPU option; -3: not a policy */
	enum na_kind arg;
} numactl_opts[] = {
	{"membind", 'm', MP_MODE_BIND, NA_NODES},
	{"interleave", 'i', MP_MODE_INTERLEAVE, NA_NODES},
	{"preferred", 'p', MP_MODE_PREFER, NA_NODE},
	{"preferred-many", 'P', MP_MODE_PREFER_MANY, NA_NODES},
	{"weighted-interleave", 'w', MP_MODE_WEIGHTED_INTERLEAVE, NA_NODES},
	{"localalloc", 'l', MP_MODE_LOCAL, NA_NONE},
	{"balancing", 'b', -1, NA_NONE},
	{"cpunodebind", 'N', -2, NA_NODES},
	{"physcpubind", 'C', -2, NA_NODES},
	{"all", 'a', -2, NA_NONE},
	{"hardware", 'H', -3, NA_NONE},
	{"show", 's', -3, NA_NONE},
};

#define NUMACTL_HINT                                                                           \
	"memory options: --membind/-m, --interleave/-i, --preferred/-p, --preferred-many/-P, " \
	"--weighted-interleave/-w, --localalloc/-l, --balancing/-b"

int mp_parse_numactl(const char *text, struct mp_policy *ret, struct mp_diag *d)
{
	size_t len = strlen(text), i = 0;
	struct mp_policy p;
	int r = 0;

	mp_policy_init(&p);
	for (;;) {
		size_t s, e, nl, vs = 0, vl = 0;
		const char *name;
		int k = -1;
		bool attached = false;

		while (i < len && isspace((unsigned char)text[i]))
			i++;
		if (i == len)
			break;
		s = i;
		while (i < len && !isspace((unsigned char)text[i]))
			i++;
		e = i;
		if (text[s] != '-' || e - s < 2) {
			r = mp_parse_fail(d, s, "give only the memory policy options; run programs with 'mplace run'",
					  "'%.*s' is not a numactl memory option", Q(e - s), text + s);
			goto out;
		}
		if (text[s + 1] == '-') {
			name = text + s + 2;
			for (nl = 0; s + 2 + nl < e && name[nl] != '='; nl++)
				;
			if (e - s == 2) {
				r = mp_parse_fail(d, s,
						  "give only the memory policy options; run programs with 'mplace run'",
						  "numactl runs a command after '--'");
				goto out;
			}
			for (size_t j = 0; j < MP_ARRAY_SIZE(numactl_opts); j++)
				if (mp_streqn(name, nl, numactl_opts[j].lng))
					k = (int)j;
			if (s + 2 + nl < e) {
				attached = true;
				vs = s + 3 + nl;
				vl = e - vs;
			}
		} else {
			name = text + s + 1;
			nl = 1;
			for (size_t j = 0; j < MP_ARRAY_SIZE(numactl_opts); j++)
				if (numactl_opts[j].shrt == text[s + 1])
					k = (int)j;
			if (e - s > 2) {
				attached = true;
				vs = s + 2;
				vl = e - vs;
			}
		}
		if (k < 0) {
			r = mp_parse_fail(d, s, NUMACTL_HINT, "unknown numactl option '%.*s'", Q(e - s), text + s);
			goto out;
		}
		if (numactl_opts[k].mode == -2) {
			r = mp_parse_fail(d, s,
					  "CPU binding is not a memory policy: use 'mplace run' with its CPU options",
					  "'%.*s' binds CPUs, not memory", Q(e - s), text + s);
			goto out;
		}
		if (numactl_opts[k].mode == -3) {
			r = mp_parse_fail(d, s, "use 'mplace topo' or 'mplace show'", "'%.*s' is not a memory policy",
					  Q(e - s), text + s);
			goto out;
		}
		if (numactl_opts[k].arg == NA_NONE) {
			if (attached) {
				r = mp_parse_fail(d, s, NUMACTL_HINT, "'%.*s' takes no value", Q(nl), name);
				goto out;
			}
		} else if (!attached) {
			/* the value is the next word, as getopt takes it */
			while (i < len && isspace((unsigned char)text[i]))
				i++;
			vs = i;
			while (i < len && !isspace((unsigned char)text[i]))
				i++;
			vl = i - vs;
			if (vl == 0) {
				r = mp_parse_fail(d, s, NUMACTL_HINT, "'%.*s' needs a node list", Q(e - s), text + s);
				goto out;
			}
		}
		if (numactl_opts[k].mode == -1) {
			p.automigrate = MP_AM_BALANCING;
			continue;
		}
		mp_parse_set_mode(&p, (enum mp_mode)numactl_opts[k].mode);
		if (numactl_opts[k].arg == NA_NODE) {
			struct mp_ns_term t = {.atom = MP_NS_LIST};
			struct mp_nodeset ns;
			uint64_t n;

			if (mp_parse_uint(text + vs, vl, MP_MAX_NODES - 1, &n) < 0) {
				r = mp_parse_fail(d, vs,
						  "--preferred takes one node number; use --preferred-many for several",
						  "bad node '%.*s'", Q(vl), text + vs);
				goto out;
			}
			mp_mask_set(&t.mask, (unsigned)n);
			if (mp_parse_ns_from_term(&t, &ns) < 0) {
				r = mp_parse_oom(d, vs);
				goto out;
			}
			mp_parse_set_nodes(&p, &ns);
		} else if (numactl_opts[k].arg == NA_NODES) {
			struct mp_nodeset ns;

			r = mp_numactl_nodes_parse(text + vs, vl, vs, &ns, d);
			if (r < 0)
				goto out;
			mp_parse_set_nodes(&p, &ns);
		}
	}
	*ret = p;
	return 0;
out:
	mp_policy_free(&p);
	return r;
}
