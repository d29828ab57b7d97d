/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The installed API, linked against libmplace.so as a program would be: only
 * what the version script exports is reachable, and the conventions hold
 * (outputs untouched on failure, reasons in a caller-sized error struct,
 * options structs of an older or newer mplace.h than the library's).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mplace.h"

#define END_OF(type, member) (offsetof(struct type, member) + sizeof(((struct type *)0)->member))

/* What a program built against a newer mplace.h passes: this library's
 * struct, then members it does not know. */
struct newer_resolve_opts {
	struct mplace_resolve_opts o;
	const char *later; /* an option from the future */
	uint64_t later_flags;
};

struct newer_compile_opts {
	struct mplace_compile_opts o;
	uint64_t later_flags;
	int later[2];
};

/*
 * Version skew, both ways, for mplace_resolve.  "prefer:local" prefers the
 * first node with CPUs (node 0 of 2s-cxl) unless has_local_node and
 * local_node say node 1, so the node shows which members the library read.
 * An older caller declares a smaller sz; the bytes past it (here the rest of
 * a full struct, asking for node 1) are not its struct and must not be read.
 */
static void test_resolve_skew(const struct mplace_topo *t)
{
	static const struct {
		size_t sz;
		int ret, node; /* -EINVAL: refused, the output untouched */
	} old[] = {
		{0, -EINVAL, 0},
		{4, -EINVAL, 0},				     /* shorter than sz itself */
		{sizeof(size_t), 0, 0},				     /* sz alone: everything default */
		{12, -EINVAL, 0},				     /* ends inside cgroup: no version's size */
		{END_OF(mplace_resolve_opts, root), 0, 0},	     /* before has_local_node */
		{END_OF(mplace_resolve_opts, has_local_node), 0, 0}, /* local_node reads 0 */
		{END_OF(mplace_resolve_opts, local_node) - 1, -EINVAL, 0},
		{END_OF(mplace_resolve_opts, local_node), 0, 1},
		{sizeof(struct mplace_resolve_opts), 0, 1},
	};
	static const struct {
		size_t later_byte; /* which byte past the known struct is set; 0: none */
		int ret, node;
	} newer[] = {
		{0, 0, 1},
		{1, -EINVAL, 0},
		{sizeof(struct newer_resolve_opts) - sizeof(struct mplace_resolve_opts), -EINVAL, 0},
	};
	struct mplace_error err = {.sz = sizeof(err)};
	struct mplace_compiled *const untouched = (struct mplace_compiled *)0x3;
	struct mplace_compiled *c;
	struct mplace_policy *p;
	int node;

	CHECK(mplace_policy_parse("prefer:local", &p, &err) == 0);
	for (size_t i = 0; i < sizeof(old) / sizeof(old[0]); i++) {
		MPLACE_OPTS(mplace_resolve_opts, o, .has_local_node = 1, .local_node = 1);
		int r;

		o.sz = old[i].sz;
		c = untouched;
		memset(err.message, 0, sizeof(err.message));
		r = mplace_resolve(p, t, &o, &c, &err);
		CHECK_MSG(r == old[i].ret, "sz %zu: %d, not %d", old[i].sz, r, old[i].ret);
		if (r < 0) {
			CHECK_MSG(c == untouched && strstr(err.message, "mplace_resolve_opts"), "sz %zu: '%s'",
				  old[i].sz, err.message);
			continue;
		}
		CHECK_MSG(mplace_compiled_nodes(c, &node, 1) == 1 && node == old[i].node, "sz %zu: node %d, not %d",
			  old[i].sz, node, old[i].node);
		mplace_compiled_free(c);
	}
	for (size_t i = 0; i < sizeof(newer) / sizeof(newer[0]); i++) {
		struct newer_resolve_opts n;
		int r;

		memset(&n, 0, sizeof(n));
		n.o.sz = sizeof(n);
		n.o.has_local_node = 1;
		n.o.local_node = 1;
		if (newer[i].later_byte)
			((unsigned char *)&n)[sizeof(n.o) + newer[i].later_byte - 1] = 1;
		c = untouched;
		memset(err.message, 0, sizeof(err.message));
		r = mplace_resolve(p, t, &n.o, &c, &err);
		CHECK_MSG(r == newer[i].ret, "later byte %zu: %d, not %d", newer[i].later_byte, r, newer[i].ret);
		if (r < 0) {
			CHECK_MSG(c == untouched && strstr(err.message, "mplace_resolve_opts") &&
					  strstr(err.message, "not zero"),
				  "later byte %zu: '%s'", newer[i].later_byte, err.message);
			continue;
		}
		CHECK(mplace_compiled_nodes(c, &node, 1) == 1 && node == newer[i].node);
		mplace_compiled_free(c);
	}
	/* no options at all: every default */
	CHECK(mplace_resolve(p, t, NULL, &c, &err) == 0);
	CHECK(mplace_compiled_nodes(c, &node, 1) == 1 && node == 0);
	mplace_compiled_free(c);
	mplace_policy_free(p);
}

/*
 * The same for mplace_compile, against the live machine.  "prefer:near"
 * needs the device member: unread, the call fails for want of a device
 * ("bare 'near'"); read, it names a device this machine lacks (-ENOENT).
 * Refusals of the struct itself name it; each failure leaves the output.
 */
#define OPTS_BAD    "mplace_compile_opts"
#define NO_DEVICE   "bare 'near'"
#define DEVICE_READ "mplace-no-such-device"

static void test_compile_skew(void)
{
	static const struct {
		size_t sz;
		int ret;
		const char *msg; /* in err.message */
	} old[] = {
		{0, -EINVAL, OPTS_BAD},
		{sizeof(size_t) - 1, -EINVAL, OPTS_BAD},
		{sizeof(size_t), -EINVAL, NO_DEVICE},
		{12, -EINVAL, OPTS_BAD}, /* ends inside cgroup */
		{END_OF(mplace_compile_opts, cgroup), -EINVAL, NO_DEVICE},
		{END_OF(mplace_compile_opts, local_node), -EINVAL, NO_DEVICE},
		{END_OF(mplace_compile_opts, local_node) + 4, -EINVAL, OPTS_BAD}, /* half a pointer */
		{sizeof(struct mplace_compile_opts), -ENOENT, DEVICE_READ},
	};
	static const struct {
		size_t later_byte;
		int ret;
		const char *msg;
	} newer[] = {
		{0, -ENOENT, DEVICE_READ},
		{1, -EINVAL, OPTS_BAD},
		{sizeof(struct newer_compile_opts) - sizeof(struct mplace_compile_opts), -EINVAL, OPTS_BAD},
	};
	struct mplace_error err = {.sz = sizeof(err)};
	struct mplace_compiled *const untouched = (struct mplace_compiled *)0x4;
	struct mplace_compiled *c;

	for (size_t i = 0; i < sizeof(old) / sizeof(old[0]); i++) {
		MPLACE_OPTS(mplace_compile_opts, o, .device = "block:mplace-no-such-device");
		int r;

		o.sz = old[i].sz;
		c = untouched;
		memset(err.message, 0, sizeof(err.message));
		r = mplace_compile("prefer:near", &o, &c, &err);
		CHECK_MSG(r == old[i].ret && strstr(err.message, old[i].msg) && c == untouched,
			  "sz %zu: %d '%s', not %d '%s'", old[i].sz, r, err.message, old[i].ret, old[i].msg);
	}
	for (size_t i = 0; i < sizeof(newer) / sizeof(newer[0]); i++) {
		struct newer_compile_opts n;
		int r;

		memset(&n, 0, sizeof(n));
		n.o.sz = sizeof(n);
		n.o.device = "block:mplace-no-such-device";
		if (newer[i].later_byte)
			((unsigned char *)&n)[sizeof(n.o) + newer[i].later_byte - 1] = 0x80;
		c = untouched;
		memset(err.message, 0, sizeof(err.message));
		r = mplace_compile("prefer:near", &n.o, &c, &err);
		CHECK_MSG(r == newer[i].ret && strstr(err.message, newer[i].msg) && c == untouched,
			  "later byte %zu: %d '%s', not %d '%s'", newer[i].later_byte, r, err.message, newer[i].ret,
			  newer[i].msg);
	}
	/* accepted and compiled: a newer caller's zero tail, and no options at all */
	{
		struct newer_compile_opts n;

		memset(&n, 0, sizeof(n));
		n.o.sz = sizeof(n);
		CHECK(mplace_compile("default", &n.o, &c, &err) == 0);
		mplace_compiled_free(c);
		CHECK(mplace_compile("default", NULL, &c, &err) == 0);
		mplace_compiled_free(c);
	}
}

int main(void)
{
	struct mplace_policy *p = (struct mplace_policy *)0x1, *q;
	struct mplace_error err = {.sz = sizeof(err)};
	struct mplace_compiled *c = NULL;
	struct mplace_topo *t = NULL;
	char *text = NULL;
	int nodes[8];

	CHECK_STR(mplace_version(), "0.1.0");
	CHECK(mplace_policy_parse("bind:0-1 strcit", &p, &err) == -EINVAL);
	CHECK(p == (struct mplace_policy *)0x1);
	CHECK(err.pos == 9 && strstr(err.message, "strcit"));

	CHECK(mplace_policy_parse("interleave:tier:fast weights=auto", &p, &err) == 0);
	CHECK(mplace_policy_format(p, &text) == 0);
	CHECK_STR(text, "interleave:tier:fast weights=auto");
	free(text);

	CHECK(mplace_topo_load(MPLACE_SOURCE_DIR "/tests/data/topo/2s-cxl", &t) == 0);
	CHECK(mplace_topo_nodes(t, nodes, 8) == 4);
	CHECK(mplace_resolve(p, t, NULL, &c, &err) == 0);
	CHECK_STR(mplace_compiled_mode(c), "weighted-interleave");
	CHECK(mplace_compiled_nodes(c, nodes, 8) == 2 && nodes[0] == 0 && nodes[1] == 1);
	CHECK(mplace_compiled_warnings(c) == 0);
	mplace_compiled_free(c);

	/* a strict failure: -ENOENT and a reason; the output untouched */
	CHECK(mplace_policy_parse("bind:7 strict", &q, &err) == 0);
	c = (struct mplace_compiled *)0x2;
	CHECK(mplace_resolve(q, t, NULL, &c, &err) == -ENOENT);
	CHECK(c == (struct mplace_compiled *)0x2 && strstr(err.message, "node 7"));
	/* combination through the API: a more specific scope cannot escape allow= */
	{
		struct mplace_policy *g;
		MPLACE_OPTS(mplace_resolve_opts, o, .has_local_node = 1, .local_node = 1);

		CHECK(mplace_policy_parse("allow=0-1", &g, &err) == 0);
		CHECK(mplace_policy_combine(g, p) == 0);
		CHECK(mplace_resolve(g, t, &o, &c, &err) == 0);
		CHECK(mplace_compiled_nodes(c, nodes, 8) == 2);
		mplace_compiled_free(c);
		mplace_policy_free(g);
	}
	/* an old caller's smaller error struct is not written past its size */
	{
		struct {
			struct mplace_error e;
			char guard[8];
		} small;

		memset(&small, 0x5a, sizeof(small));
		small.e.sz = offsetof(struct mplace_error, hint);
		CHECK(mplace_resolve(q, t, NULL, &c, &small.e) == -ENOENT);
		CHECK((unsigned char)small.e.hint[0] == 0x5a && (unsigned char)small.guard[0] == 0x5a);
	}
	mplace_policy_free(q);
	mplace_policy_free(p);
	test_resolve_skew(t);
	test_compile_skew();
	mplace_topo_free(t);
	return check_status();
}
