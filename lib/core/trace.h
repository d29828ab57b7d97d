/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * The story of a fold and a resolution, step by step, for `mplace explain`
 * and for errors that name the scope behind a refusal (combine.c keeps it).
 */
#include "policy.h"

/* One step of a fold or of a resolution, for `mplace explain`. */
struct mp_trace_step {
	char *scope;  /* "system", "cgroup /db.slice", "exe /usr/bin/postgres", "command line", "resolve" */
	char *origin; /* "mplace.conf:12:9", or NULL */
	char *key;    /* "policy", "heap", "allow", or NULL for resolution notes */
	char *text;   /* the policy text of this step, or NULL */
	char *effect; /* what it set / narrowed / why a node was chosen or refused */
};

/* Which policy field a fold step set; for naming the scope behind an error. */
enum mp_field {
	MP_FIELD_MODE,
	MP_FIELD_NODES,
	MP_FIELD_PHYS,
	MP_FIELD_STRICT,
	MP_FIELD_FALLBACK,
	MP_FIELD_WEIGHTS,
	MP_FIELD_ORDER,
	MP_FIELD_AUTOMIGRATE,
	MP_FIELD_REPLICATE,
	MP_FIELD_HOME,
	MP_FIELD_NODEFLAGS,
	MP_FIELD_MIGRATE,
	MP_FIELD__COUNT,
};

struct mp_trace {
	unsigned n;
	struct mp_trace_step *steps;
	/* provenance: index of the step that last set each field, -1 none */
	int field_step[MP_FIELD__COUNT];
	unsigned n_allow;
	int *allow_step; /* per entry of the folded policy's allow list */
	unsigned n_order_nodes;
	int *order_nodes_step; /* per entry of order_nodes */
};

void mp_trace_init(struct mp_trace *t);
/* Copy; -ENOMEM. */
int mp_trace_copy(struct mp_trace *dst, const struct mp_trace *src);

void mp_trace_free(struct mp_trace *t);
