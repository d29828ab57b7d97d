/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once
/*
 * A process's memory judged against its policies, as mplace show, mplace
 * plot process and mplace top see it: the ranges of lib/machine/procmem.c,
 * what the process's agent says was requested for each kind (when one
 * answers on its control socket), and for each range the nodes its pages
 * may be on and how many are outside them.  Reading only.
 */
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/compiled.h"
#include "machine/procmem.h"

#define N_KINDS (MP_PM_KIND_SPECIAL + 1)

/* What the agent said for one kind. */
struct pv_req {
	bool have;
	char *requested, *source;
	bool have_compiled;
	struct mp_compiled c;
};

/* What became of asking the process's agent. */
enum pv_agent_state {
	AGENT_NONE,	   /* no agent library in the process */
	AGENT_ANSWERED,	   /* it answered: requested policies known */
	AGENT_SILENT,	   /* loaded, but nothing listens on its name */
	AGENT_IMPOSTOR,	   /* another process holds its name */
	AGENT_NO_ANSWER,   /* its name is bound, but no answer came */
	AGENT_REFUSED,	   /* it answered with an error (not allowed to ask) */
	AGENT_UNREACHABLE, /* asking failed otherwise */
};

struct pview {
	struct mp_procmem pm;
	bool agent; /* answered */
	enum pv_agent_state state;
	char *state_detail; /* the refusal, the impostor, the error */
	char *agent_version;
	struct json_object *agent_reply; /* owned */
	struct pv_req kinds[N_KINDS];
	struct pv_req generic;	/* "policy": for kinds without their own */
	struct pv_req file_req; /* the last file glob's request (pv_judge) */
};

/* How pv_load counts pages. */
enum pv_count {
	PV_MOVE_PAGES, /* each present page asked (numa_maps' counts if refused) */
	PV_NUMA_MAPS,  /* numa_maps' per-node counts only: cheap, for many processes */
};

/*
 * Read process pid (its map, the agent's answer within timeout_ms, then its
 * pages counted as asked).  Returns 0 or the -errno of mp_procmem_load and
 * mp_procmem_count (pv_say_error says it); *v is zeroed first and holds
 * nothing to free on failure.
 */
int pv_load(struct pview *v, int pid, int timeout_ms, enum pv_count how);
void pv_free(struct pview *v);

/* A range judged: what was requested for it, the nodes its pages may be on
 * (when anything confines them) and how many present pages are outside. */
struct pv_judged {
	const struct pv_req *q; /* NULL: nothing requested (or no agent) */
	bool confined;
	struct mp_nodemask allowed;
	const char *against; /* "requested" or "kernel" */
	uint64_t outside;
	bool matches;
};

/* Judge range i of v->pm; the result points into v (valid until the next
 * call for a file range, or pv_free). */
void pv_judge(struct pview *v, unsigned i, struct pv_judged *ret);

/* The "agent:" line, and its JSON name. */
void pv_agent_line(const struct pview *s, char *buf, size_t size);
const char *pv_agent_state_name(enum pv_agent_state st);

/* A string member of o, duplicated; NULL when absent or not a string. */
char *pv_json_str(struct json_object *o, const char *key);

/* Say why pv_load failed for pid, with a hint where there is one. */
void pv_say_error(int pid, int r);
