/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Output forms of a resolved policy: each form for each mode, what each form
 * says it loses, -EXDEV for modes a form has no word for, and that the
 * mplace and foreign texts read back to the same placement.
 */
#include <errno.h>

#include "basic/util.h"
#include "check.h"
#include "core/forms.h"
#include "core/mpol.h"

static struct mp_compiled mk(enum mp_mode mode, const char *nodes)
{
	struct mp_compiled c;

	memset(&c, 0, sizeof(c));
	c.mode = mode;
	c.home = -1;
	c.phys_hi = UINT64_MAX;
	c.automigrate = MP_AM_OFF;
	if (nodes)
		mp_mask_parse(nodes, strlen(nodes), &c.nodes, NULL);
	return c;
}

struct fcase {
	enum mp_mode mode;
	const char *nodes;
	enum mp_form form;
	int ret;
	const char *text; /* NULL when ret < 0 */
	const char *lost; /* substring, or "" for nothing lost */
};

static const struct fcase mode_cases[] = {
	/* numactl */
	{MP_MODE_DEFAULT, NULL, MP_FORM_NUMACTL, 0, "", ""},
	{MP_MODE_LOCAL, NULL, MP_FORM_NUMACTL, 0, "--localalloc", ""},
	{MP_MODE_BIND, "0-1", MP_FORM_NUMACTL, 0, "--membind=0-1", ""},
	{MP_MODE_PREFER, "1", MP_FORM_NUMACTL, 0, "--preferred=1", ""},
	{MP_MODE_PREFER, "1-2", MP_FORM_NUMACTL, 0, "--preferred=1", "nodes 1-2 after the first"},
	{MP_MODE_PREFER_MANY, "0-1", MP_FORM_NUMACTL, 0, "--preferred-many=0-1", ""},
	{MP_MODE_INTERLEAVE, "0,2", MP_FORM_NUMACTL, 0, "--interleave=0,2", ""},
	{MP_MODE_WEIGHTED_INTERLEAVE, "0-1", MP_FORM_NUMACTL, 0, "--weighted-interleave=0-1", ""},
	{MP_MODE_SPLIT, "0-1", MP_FORM_NUMACTL, -EXDEV, NULL, "split mode (numactl has no chunked split)"},
	/* systemd */
	{MP_MODE_DEFAULT, NULL, MP_FORM_SYSTEMD, 0, "NUMAPolicy=default", ""},
	{MP_MODE_LOCAL, NULL, MP_FORM_SYSTEMD, 0, "NUMAPolicy=local", ""},
	{MP_MODE_BIND, "0-1", MP_FORM_SYSTEMD, 0, "NUMAPolicy=bind\nNUMAMask=0-1", ""},
	{MP_MODE_PREFER, "3", MP_FORM_SYSTEMD, 0, "NUMAPolicy=preferred\nNUMAMask=3", ""},
	{MP_MODE_INTERLEAVE, "0-3", MP_FORM_SYSTEMD, 0, "NUMAPolicy=interleave\nNUMAMask=0-3", ""},
	{MP_MODE_PREFER_MANY, "0-1", MP_FORM_SYSTEMD, -EXDEV, NULL, "prefer-many mode"},
	{MP_MODE_WEIGHTED_INTERLEAVE, "0-1", MP_FORM_SYSTEMD, -EXDEV, NULL, "weighted-interleave mode"},
	{MP_MODE_SPLIT, "0-1", MP_FORM_SYSTEMD, -EXDEV, NULL, "split mode"},
	/* tmpfs mpol= */
	{MP_MODE_DEFAULT, NULL, MP_FORM_MPOL, 0, "mpol=default", ""},
	{MP_MODE_LOCAL, NULL, MP_FORM_MPOL, 0, "mpol=local", ""},
	{MP_MODE_BIND, "0-1", MP_FORM_MPOL, 0, "mpol=bind:0-1", ""},
	{MP_MODE_PREFER, "2", MP_FORM_MPOL, 0, "mpol=prefer:2", ""},
	{MP_MODE_INTERLEAVE, "0-3", MP_FORM_MPOL, 0, "mpol=interleave:0-3", ""},
	{MP_MODE_PREFER_MANY, "0-1", MP_FORM_MPOL, -EXDEV, NULL, "prefer-many mode (tmpfs mpol="},
	{MP_MODE_WEIGHTED_INTERLEAVE, "0-1", MP_FORM_MPOL, -EXDEV, NULL, "weighted-interleave mode"},
	{MP_MODE_SPLIT, "0-1", MP_FORM_MPOL, -EXDEV, NULL, "split mode"},
	/* OCI */
	{MP_MODE_DEFAULT, NULL, MP_FORM_OCI, 0, "{\"mode\":\"MPOL_DEFAULT\"}", ""},
	{MP_MODE_LOCAL, NULL, MP_FORM_OCI, 0, "{\"mode\":\"MPOL_LOCAL\"}", ""},
	{MP_MODE_BIND, "0-1", MP_FORM_OCI, 0, "{\"mode\":\"MPOL_BIND\",\"nodes\":\"0-1\"}", ""},
	{MP_MODE_PREFER, "1", MP_FORM_OCI, 0, "{\"mode\":\"MPOL_PREFERRED\",\"nodes\":\"1\"}", ""},
	{MP_MODE_PREFER_MANY, "0-1", MP_FORM_OCI, 0, "{\"mode\":\"MPOL_PREFERRED_MANY\",\"nodes\":\"0-1\"}", ""},
	{MP_MODE_INTERLEAVE, "0,2", MP_FORM_OCI, 0, "{\"mode\":\"MPOL_INTERLEAVE\",\"nodes\":\"0,2\"}", ""},
	{MP_MODE_WEIGHTED_INTERLEAVE, "0-1", MP_FORM_OCI, 0,
	 "{\"mode\":\"MPOL_WEIGHTED_INTERLEAVE\",\"nodes\":\"0-1\"}", ""},
	{MP_MODE_SPLIT, "0-1", MP_FORM_OCI, -EXDEV, NULL, "split mode"},
	/* mplace */
	{MP_MODE_DEFAULT, NULL, MP_FORM_MPLACE, 0, "default", ""},
	{MP_MODE_LOCAL, NULL, MP_FORM_MPLACE, 0, "local", ""},
	{MP_MODE_BIND, "0-1", MP_FORM_MPLACE, 0, "bind:0-1", ""},
	{MP_MODE_PREFER, "1", MP_FORM_MPLACE, 0, "prefer:1", ""},
	{MP_MODE_PREFER_MANY, "0-1", MP_FORM_MPLACE, 0, "prefer-many:0-1", ""},
	{MP_MODE_INTERLEAVE, "0,2", MP_FORM_MPLACE, 0, "interleave:0,2", ""},
	{MP_MODE_WEIGHTED_INTERLEAVE, "0-1", MP_FORM_MPLACE, 0, "weighted-interleave:0-1", ""},
	{MP_MODE_SPLIT, "0-1", MP_FORM_MPLACE, 0, "split:0-1", ""},
	/* bad arguments */
	{MP_MODE_BIND, NULL, MP_FORM_NUMACTL, -EINVAL, NULL, NULL},
	{MP_MODE_BIND, "0", MP_FORM_AUTO, -EINVAL, NULL, NULL},
	{MP_MODE_BIND, "0", (enum mp_form)42, -EINVAL, NULL, NULL},
};

static void run(const struct mp_compiled *c, const struct fcase *k, const char *what)
{
	char *text = (char *)"untouched", *lost = (char *)"untouched";
	int r = mp_compiled_format_as(c, k->form, &text, &lost);

	CHECK_MSG(r == k->ret, "%s: mode %s form %d: %d", what, mp_mode_name(k->mode), k->form, r);
	if (r == -EINVAL || r == -ENOMEM) {
		CHECK(strcmp(text, "untouched") == 0 && strcmp(lost, "untouched") == 0);
		return;
	}
	if (r != 0 && r != -EXDEV)
		return;
	if (k->text)
		CHECK_STR(text, k->text);
	else
		CHECK(text == NULL);
	if (k->lost && !k->lost[0])
		CHECK_STR(lost, "");
	else if (k->lost)
		CHECK_MSG(lost && strstr(lost, k->lost), "%s: lost '%s' lacks '%s'", what, lost, k->lost);
	if (r == 0)
		free(text);
	free(lost);
}

static void test_modes(void)
{
	for (size_t i = 0; i < MP_ARRAY_SIZE(mode_cases); i++) {
		struct mp_compiled c = mk(mode_cases[i].mode, mode_cases[i].nodes);

		run(&c, &mode_cases[i], "mode");
	}
}

/* Attributes that only some forms can carry. */
static void test_lost(void)
{
	struct mp_compiled c;
	struct fcase k = {MP_MODE_BIND, "0-1", MP_FORM_NUMACTL, 0, NULL, NULL};

	/* strict */
	c = mk(MP_MODE_BIND, "0-1");
	c.strict = true;
	k.text = "--membind=0-1";
	k.lost = "strict (numactl gives kernel semantics: bind invokes the OOM killer";
	run(&c, &k, "strict numactl");
	k.form = MP_FORM_MPLACE;
	k.text = "bind:0-1 strict";
	k.lost = "";
	run(&c, &k, "strict mplace");

	/* non-strict bind with fallback: the kernel never falls back */
	c = mk(MP_MODE_BIND, "0");
	c.n_fallback = 2;
	c.fallback[0] = 2;
	c.fallback[1] = 1;
	k.form = MP_FORM_SYSTEMD;
	k.text = "NUMAPolicy=bind\nNUMAMask=0";
	k.lost = "fallback to 2,1 (kernel bind never leaves its nodes)";
	run(&c, &k, "fallback systemd");
	k.form = MP_FORM_MPLACE;
	k.text = "bind:0 fallback=1-2";
	k.lost = "";
	run(&c, &k, "fallback mplace");
	/* interleave falls back in the kernel too: nothing lost */
	c.mode = MP_MODE_INTERLEAVE;
	k.form = MP_FORM_NUMACTL;
	k.text = "--interleave=0";
	run(&c, &k, "fallback interleave");

	/* weights */
	c = mk(MP_MODE_WEIGHTED_INTERLEAVE, "0-1");
	c.has_weights = true;
	c.n_weights = 2;
	c.weight_node[0] = 1;
	c.weight[0] = 1;
	c.weight_node[1] = 0;
	c.weight[1] = 3;
	k.form = MP_FORM_NUMACTL;
	k.text = "--weighted-interleave=0-1";
	k.lost = "weights 1:1,0:3 (numactl has no per-policy weights";
	run(&c, &k, "weights numactl");
	k.form = MP_FORM_OCI;
	k.text = "{\"mode\":\"MPOL_WEIGHTED_INTERLEAVE\",\"nodes\":\"0-1\"}";
	k.lost = "weights 1:1,0:3 (OCI";
	run(&c, &k, "weights oci");
	k.form = MP_FORM_MPLACE;
	k.text = "weighted-interleave:0-1 weights=0:3,1:1";
	k.lost = "";
	run(&c, &k, "weights mplace");

	/* order, phys, replicate, migrate, home */
	c = mk(MP_MODE_BIND, "0");
	c.order = 2u << 20;
	c.phys_hi = 4ull << 30;
	c.replicate = true;
	c.migrate = true;
	c.home = 0;
	k.form = MP_FORM_MPOL;
	k.text = "mpol=bind:0";
	for (const char *const *l =
		     (const char *const[]){"order=2M", "phys=0-4G", "replicate", "migrate", "home=0", NULL};
	     *l; l++) {
		k.lost = *l;
		run(&c, &k, "extras mpol");
	}
	k.form = MP_FORM_MPLACE;
	k.text = "bind:0 phys<4G order=2M replicate home=0 migrate";
	k.lost = "";
	run(&c, &k, "extras mplace");

	/* node flags: numactl and systemd cannot say them, OCI and mpol can */
	c = mk(MP_MODE_INTERLEAVE, "0-3");
	c.kflags = MP_MPOL_F_STATIC_NODES;
	k.form = MP_FORM_NUMACTL;
	k.text = "--interleave=0-3";
	k.lost = "static (numactl has no MPOL_F_STATIC_NODES)";
	run(&c, &k, "static numactl");
	k.form = MP_FORM_MPOL;
	k.text = "mpol=interleave=static:0-3";
	k.lost = "";
	run(&c, &k, "static mpol");
	k.form = MP_FORM_OCI;
	k.text = "{\"mode\":\"MPOL_INTERLEAVE\",\"nodes\":\"0-3\",\"flags\":[\"MPOL_F_STATIC_NODES\"]}";
	run(&c, &k, "static oci");
	k.form = MP_FORM_MPLACE;
	k.text = "interleave:0-3 static";
	run(&c, &k, "static mplace");
	c.kflags = MP_MPOL_F_RELATIVE_NODES;
	k.form = MP_FORM_MPOL;
	k.text = "mpol=interleave=relative:0-3";
	run(&c, &k, "relative mpol");
	k.form = MP_FORM_SYSTEMD;
	k.text = "NUMAPolicy=interleave\nNUMAMask=0-3";
	k.lost = "relative (systemd NUMAPolicy= has no MPOL_F_RELATIVE_NODES)";
	run(&c, &k, "relative systemd");

	/* balancing */
	c = mk(MP_MODE_BIND, "0-1");
	c.kflags = MP_MPOL_F_NUMA_BALANCING;
	c.automigrate = MP_AM_BALANCING;
	k.form = MP_FORM_NUMACTL;
	k.text = "--membind=0-1 --balancing";
	k.lost = "";
	run(&c, &k, "balancing numactl");
	k.form = MP_FORM_OCI;
	k.text = "{\"mode\":\"MPOL_BIND\",\"nodes\":\"0-1\",\"flags\":[\"MPOL_F_NUMA_BALANCING\"]}";
	run(&c, &k, "balancing oci");
	k.form = MP_FORM_SYSTEMD;
	k.text = "NUMAPolicy=bind\nNUMAMask=0-1";
	k.lost = "automigrate=balancing (systemd";
	run(&c, &k, "balancing systemd");
	k.form = MP_FORM_MPLACE;
	k.text = "bind:0-1 automigrate=balancing";
	k.lost = "";
	run(&c, &k, "balancing mplace");
	/* automigrate the kernel does not do */
	c = mk(MP_MODE_INTERLEAVE, "0-1");
	c.automigrate = MP_AM_DAMON;
	k.form = MP_FORM_NUMACTL;
	k.text = "--interleave=0-1";
	k.lost = "automigrate=damon";
	run(&c, &k, "damon numactl");
	k.form = MP_FORM_MPLACE;
	k.text = "interleave:0-1 automigrate=damon";
	k.lost = "";
	run(&c, &k, "damon mplace");

	/* several losses are listed together */
	c = mk(MP_MODE_BIND, "0");
	c.strict = true;
	c.order = MP_ORDER_THP;
	k.form = MP_FORM_NUMACTL;
	k.text = "--membind=0";
	k.lost = "; order=thp";
	run(&c, &k, "two losses");
}

/* A foreign text, read back, gives the same placement as the mplace text. */
static void test_read_back(void)
{
	static const enum mp_form forms[] = {MP_FORM_NUMACTL, MP_FORM_SYSTEMD, MP_FORM_MPOL, MP_FORM_OCI};
	static const enum mp_mode modes[] = {MP_MODE_LOCAL,	  MP_MODE_BIND,	      MP_MODE_PREFER,
					     MP_MODE_PREFER_MANY, MP_MODE_INTERLEAVE, MP_MODE_WEIGHTED_INTERLEAVE};

	for (size_t m = 0; m < MP_ARRAY_SIZE(modes); m++) {
		struct mp_compiled c = mk(modes[m], modes[m] == MP_MODE_LOCAL ? NULL : "1-2");
		char *mtext, *lost;
		struct mp_policy want;

		if (modes[m] == MP_MODE_PREFER)
			mp_mask_clear(&c.nodes, 2);
		CHECK(mp_compiled_format_as(&c, MP_FORM_MPLACE, &mtext, &lost) == 0);
		free(lost);
		CHECK(mp_policy_parse(mtext, &want, NULL) == 0);
		for (size_t f = 0; f < MP_ARRAY_SIZE(forms); f++) {
			struct mp_policy got;
			char *text;
			int r = mp_compiled_format_as(&c, forms[f], &text, &lost);

			free(lost);
			if (r == -EXDEV)
				continue;
			CHECK(r == 0);
			if (r < 0)
				continue;
			r = mp_policy_parse(text, &got, NULL);
			CHECK_MSG(r == 0, "'%s' does not read back", text);
			if (r == 0) {
				CHECK_MSG(mp_policy_equal(&got, &want), "'%s' reads back differently from '%s'", text,
					  mtext);
				mp_policy_free(&got);
			}
			free(text);
		}
		mp_policy_free(&want);
		free(mtext);
	}
}

int main(void)
{
	test_modes();
	test_lost();
	test_read_back();
	return check_status();
}
