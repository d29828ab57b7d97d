/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The compiled policy's one-line form: every resolved policy survives the
 * round trip exactly, and anything malformed, or spelt otherwise than the
 * writer spells it, is refused without touching the output.
 */
#include <errno.h>
#include <string.h>

#include "basic/util.h"
#include "check.h"
#include "core/combine.h"
#include "core/compiled.h"
#include "core/policy.h"

static bool same(const struct mp_compiled *a, const struct mp_compiled *b)
{
	if (a->mode != b->mode || a->kmode != b->kmode || a->kflags != b->kflags || a->strict != b->strict ||
	    a->allow_narrows != b->allow_narrows || !mp_mask_equal(&a->nodes, &b->nodes) ||
	    !mp_mask_equal(&a->allowed, &b->allowed) || a->n_fallback != b->n_fallback ||
	    a->has_weights != b->has_weights || a->n_weights != b->n_weights || a->order != b->order ||
	    a->n_order_masks != b->n_order_masks || a->phys_lo != b->phys_lo || a->phys_hi != b->phys_hi ||
	    a->automigrate != b->automigrate || a->replicate != b->replicate || a->migrate != b->migrate ||
	    a->home != b->home)
		return false;
	for (unsigned i = 0; i < a->n_fallback; i++)
		if (a->fallback[i] != b->fallback[i])
			return false;
	for (unsigned i = 0; i < a->n_weights; i++)
		if (a->weight[i] != b->weight[i] || a->weight_node[i] != b->weight_node[i])
			return false;
	for (unsigned i = 0; i < a->n_order_masks; i++)
		if (a->order_masks[i].page_size != b->order_masks[i].page_size ||
		    !mp_mask_equal(&a->order_masks[i].nodes, &b->order_masks[i].nodes))
			return false;
	return true;
}

int main(void)
{
	static const char *const policies[] = {
		"",
		"local",
		"bind:0-1 strict",
		"bind:2 allow=2-3 fallback=3",
		"interleave:all weights=auto",
		"split:0,2 weights=0:3,2:1 order=2M",
		"prefer-many:tier:fast automigrate home=1",
		"weighted-interleave:0-3",
		"bind:0-3 order.2M=0-1 order.thp=0 phys=1G-8G replicate migrate static",
		"interleave:1,3 relative automigrate=damon",
	};
	static const char *const bad[] = {
		"",
		"mplace-compiled/2 mode=bind",
		"mplace-compiled/1 mode=bind",
		"mplace-compiled/1 mode=nope kmode=2 kflags=0 nodes=0 allowed=0 strict=0 narrows=0 fallback=- weights=- "
		"order=0 omask=- phys=0-ffffffffffffffff am=off rep=0 mig=0 home=-1",
		"mplace-compiled/1 mode=bind kmode=2 kflags=0 nodes=0 allowed=0 strict=0 narrows=0 fallback=- weights=- "
		"order=0 omask=- phys=0-ffffffffffffffff am=off rep=0 mig=0 home=-1 extra=1",
		"mplace-compiled/1 mode=bind kmode=9 kflags=0 nodes=0 allowed=0 strict=0 narrows=0 fallback=- weights=- "
		"order=0 omask=- phys=0-ffffffffffffffff am=off rep=0 mig=0 home=-1",
		"mplace-compiled/1 mode=bind kmode=2 kflags=0 nodes=0 allowed=0 strict=0 narrows=0 fallback=1, weights=- "
		"order=0 omask=- phys=0-ffffffffffffffff am=off rep=0 mig=0 home=-1",
		/* weights that are all zero divided by zero in the split plan */
		"mplace-compiled/1 mode=bind kmode=2 kflags=0 nodes=0-1 allowed=0-1 strict=0 narrows=0 fallback=- "
		"weights=0:0,1:0 order=0 omask=- phys=0-ffffffffffffffff am=off rep=0 mig=0 home=-1",
		/* an empty list was read as the kernel's weights */
		"mplace-compiled/1 mode=bind kmode=2 kflags=0 nodes=0-1 allowed=0-1 strict=0 narrows=0 fallback=- "
		"weights= order=0 omask=- phys=0-ffffffffffffffff am=off rep=0 mig=0 home=-1",
		/* sscanf stopped at the 'n' and took 0-ff */
		"mplace-compiled/1 mode=bind kmode=2 kflags=0 nodes=0 allowed=0 strict=0 narrows=0 fallback=- weights=- "
		"order=0 omask=- phys=0-ffnffff am=off rep=0 mig=0 home=-1",
		"mplace-compiled/1 mode=bind kmode=2 kflags=0 nodes=0 allowed=0 strict=0 narrows=0 fallback=- weights=- "
		"order=0 omask=- phys=0x0-0x1000 am=off rep=0 mig=0 home=-1",
		/* spellings the writer never makes */
		"mplace-compiled/1 mode=bind kmode=2 kflags=0 nodes=0 allowed=1,0 strict=0 narrows=0 fallback=- weights=- "
		"order=0 omask=- phys=0-ffffffffffffffff am=off rep=0 mig=0 home=-1",
		"mplace-compiled/1 mode=bind kmode=2 kflags=0 nodes= allowed=0 strict=0 narrows=0 fallback=- weights=- "
		"order=0 omask=- phys=0-ffffffffffffffff am=off rep=0 mig=0 home=-1",
		"mplace-compiled/1 mode=bind kmode=02 kflags=0 nodes=0 allowed=0 strict=0 narrows=0 fallback=- weights=- "
		"order=0 omask=- phys=0-ffffffffffffffff am=off rep=0 mig=0 home=-1",
		"mplace-compiled/1 mode=bind kmode=2 kflags=0 nodes=0 allowed=0 strict=0 narrows=0 fallback=- weights=- "
		"order=0 omask=- phys=0-ffffffffffffffff am=off rep=0 mig=0 home=-0",
		"mplace-compiled/1 mode=bind kmode=2 kflags=0 nodes=0 allowed=0 strict=0 narrows=0 fallback=- weights=- "
		"order=0 omask=2097152:0; phys=0-ffffffffffffffff am=off rep=0 mig=0 home=-1",
	};
	const char *good = "mplace-compiled/1 mode=bind kmode=2 kflags=0 nodes=0 allowed=0 strict=0 narrows=0 "
			   "fallback=- weights=- order=0 omask=- phys=0-ffffffffffffffff am=off rep=0 mig=0 home=-1";
	struct mp_topo *t;
	struct mp_compiled c, d, untouched;

	if (mp_topo_load(MPLACE_SOURCE_DIR "/tests/data/topo/2s-cxl", &t) < 0)
		CHECK_SKIP("the 2s-cxl fixture cannot be read");
	for (size_t i = 0; i < MP_ARRAY_SIZE(policies); i++) {
		struct mp_resolve_ctx ctx = {.topo = t, .local_node = 0};
		struct mp_cgroup cg = {.path = (char *)"/x", .has_mems = true};
		struct mp_policy p;
		struct mp_diag diag;
		char a[8192], b[8192];

		mp_mask_parse("0-3", 3, &cg.mems, NULL);
		ctx.cgroup = &cg;
		CHECK(mp_policy_parse(policies[i], &p, &diag) == 0);
		CHECK_MSG(mp_resolve(&p, NULL, &ctx, &c, &diag) == 0, "%s: %s", policies[i], diag.msg);
		CHECK(mp_compiled_serialize(&c, a, sizeof(a)) < (int)sizeof(a));
		CHECK_MSG(mp_compiled_deserialize(a, &d) == 0, "cannot read back '%s'", a);
		CHECK_MSG(same(&c, &d), "'%s' differs after the round trip", a);
		mp_compiled_serialize(&d, b, sizeof(b));
		CHECK_STR(a, b);
		/* a short buffer: the full length is still returned */
		CHECK(mp_compiled_serialize(&c, b, 10) == (int)strlen(a));
		mp_compiled_free(&c);
		mp_compiled_free(&d);
		mp_policy_free(&p);
	}
	CHECK(mp_compiled_deserialize(good, &d) == 0 && d.kmode == 2 && mp_mask_test(&d.nodes, 0));
	memset(&untouched, 0x5a, sizeof(untouched));
	for (size_t i = 0; i < MP_ARRAY_SIZE(bad); i++) {
		struct mp_compiled e = untouched;

		CHECK_MSG(mp_compiled_deserialize(bad[i], &e) == -EINVAL, "accepted '%s'", bad[i]);
		CHECK(!memcmp(&e, &untouched, sizeof(e)));
	}
	mp_topo_free(t);
	return check_status();
}
