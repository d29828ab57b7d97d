/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The live context loader against the fixture trees in tests/data/topo:
 * only a missing topology fails it (with the output untouched); a missing
 * or unreadable cgroup leaves that part absent with its -errno kept, and the
 * resolve context points at exactly the parts that are present.  Expected
 * values come from the fixtures' files, not from the loader's output.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "basic/util.h"
#include "check.h"
#include "machine/live.h"

static void fixture(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/tests/data/topo/%s", MPLACE_SOURCE_DIR, name);
}

static void test_load(void)
{
	static const struct {
		const char *fixture;
		int pid;
		const char *cgroup; /* explicit path, or NULL: pid's own */
		int ret;
		const char *online; /* the topology's online nodes */
		int cg_err;	    /* 0: the cgroup is there */
		const char *cg_path, *mems;
		const char *kernel;
	} cases[] = {
		/* hybrid: the v1 cpuset line of proc/self/cgroup */
		{"2s", 0, NULL, 0, "0-1", 0, "/docker/4f1c", "1", "6.1.0-18-amd64"},
		/* a pid with no proc/PID/cgroup in the fixture: no cgroup, still loads */
		{"2s", 4242, NULL, 0, "0-1", -ENOENT, NULL, NULL, "6.1.0-18-amd64"},
		{"2s-cxl", 0, NULL, 0, "0-3", 0, "/system.slice/db.service", "0-1", "6.16.3-amd64"},
		{"2s-cxl", 0, "/system.slice/other.service", 0, "0-3", 0, "/system.slice/other.service", "0-3",
		 "6.16.3-amd64"},
		/* an explicit cgroup that cannot be read: absent, the reason kept */
		{"2s-cxl", 0, "relative", 0, "0-3", -EINVAL, NULL, NULL, "6.16.3-amd64"},
		/* no proc/self/cgroup at all */
		{"memless", 0, NULL, 0, "0-1", -ENOENT, NULL, NULL, "5.10.0-28-amd64"},
		/* no topology: the one fatal part */
		{"no-such-machine", 0, NULL, -ENOENT, NULL, 0, NULL, NULL, NULL},
	};

	for (size_t i = 0; i < MP_ARRAY_SIZE(cases); i++) {
		struct mp_live l, zero;
		struct mp_resolve_ctx ctx;
		char root[4096], online[256];
		int r;

		fixture(root, sizeof(root), cases[i].fixture);
		memset(&l, 0xa5, sizeof(l));
		r = mp_live_load(root, cases[i].pid, cases[i].cgroup, &l);
		CHECK_MSG(r == cases[i].ret, "case %zu (%s): %d", i, cases[i].fixture, r);
		if (r < 0) {
			struct mp_live sentinel;

			memset(&sentinel, 0xa5, sizeof(sentinel));
			CHECK_MSG(!memcmp(&l, &sentinel, sizeof(l)), "case %zu: output touched on failure", i);
			continue;
		}
		CHECK(l.topo != NULL);
		mp_mask_format(&l.topo->online, online, sizeof(online));
		CHECK_STR(online, cases[i].online);
		CHECK_MSG(l.cg_err == cases[i].cg_err, "case %zu: cg_err %d", i, l.cg_err);
		CHECK_MSG(l.have_cg == (cases[i].cg_err == 0), "case %zu", i);
		if (l.have_cg) {
			char mems[256];

			CHECK_STR(l.cg.path, cases[i].cg_path);
			CHECK(l.cg.has_mems);
			mp_mask_format(&l.cg.mems, mems, sizeof(mems));
			CHECK_STR(mems, cases[i].mems);
		}
		/* the features wait until a policy needs them */
		CHECK_MSG(!l.have_feat && !l.feat_tried, "case %zu: features probed at load", i);
		memset(&ctx, 0xa5, sizeof(ctx));
		mp_live_resolve_ctx(&l, &ctx);
		CHECK(ctx.features == NULL && ctx.get_features != NULL && ctx.features_arg == &l);
		CHECK(ctx.get_features(ctx.features_arg) == &l.feat);
		CHECK_MSG(l.have_feat && l.feat_tried, "case %zu", i);
		if (l.have_feat)
			CHECK_STR(l.feat.kernel, cases[i].kernel);

		memset(&ctx, 0xa5, sizeof(ctx));
		mp_live_resolve_ctx(&l, &ctx);
		CHECK(ctx.topo == l.topo);
		CHECK(ctx.cgroup == (l.have_cg ? &l.cg : NULL));
		CHECK(ctx.features == &l.feat && ctx.get_features == NULL);
		CHECK(ctx.local_node == -1);
		CHECK(ctx.device == NULL);

		/* freed and zeroed, so a second free (a cleanup path) is harmless */
		mp_live_free(&l);
		memset(&zero, 0, sizeof(zero));
		CHECK(!memcmp(&l, &zero, sizeof(l)));
		mp_live_free(&l);
	}
}

int main(void)
{
	test_load();
	return check_status();
}
