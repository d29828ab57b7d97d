/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A process's memory judged against its policies (procview.h): the map and
 * the pages come from lib/machine/procmem.c, the requested policies from
 * the process's agent on its control socket, and the judgement of each
 * range is the one mplace show prints, so that mplace plot process and
 * mplace top say the same.  Nothing here changes the process.
 */
#include <errno.h>
#include <fnmatch.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/mpol.h"
#include "procview.h"
#include "tool.h"
#include "wire/wire.h"

/* ---- the agent ------------------------------------------------------------ */

char *pv_json_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return strdup(json_object_get_string(v));
}

static void req_from_json(struct pv_req *q, struct json_object *o)
{
	char *compiled;

	q->have = true;
	q->requested = pv_json_str(o, "requested");
	q->source = pv_json_str(o, "source");
	compiled = pv_json_str(o, "compiled");
	if (compiled && mp_compiled_deserialize(compiled, &q->c) == 0)
		q->have_compiled = true;
	free(compiled);
}

static void req_free(struct pv_req *q)
{
	free(q->requested);
	free(q->source);
	if (q->have_compiled)
		mp_compiled_free(&q->c);
	memset(q, 0, sizeof(*q));
}

/*
 * Ranges the agent knows the kind of better than the map does (its heap
 * arenas are anonymous mappings): "ranges": [{"start": "0x..", "end":
 * "0x..", "kind": "heap"}] in its answer relabels the ranges of the map
 * that lie inside one of them.  A mapping the kernel merged across such a
 * boundary is split there first (before the pages are counted).
 */
static void agent_ranges(struct pview *s, struct json_object *reply)
{
	struct json_object *ranges;

	if (!json_object_object_get_ex(reply, "ranges", &ranges) || !json_object_is_type(ranges, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(ranges); i++) {
		struct json_object *o = json_object_array_get_idx(ranges, i);
		char *start = pv_json_str(o, "start"), *end = pv_json_str(o, "end"), *kind = pv_json_str(o, "kind");
		unsigned long long a, b;
		enum mp_kind k;
		const char *glob;

		if (start && end && kind && sscanf(start, "%llx", &a) == 1 && sscanf(end, "%llx", &b) == 1 &&
		    mp_kind_parse(kind, &k, &glob) == 0 && k != MP_KIND_ALL && k != MP_KIND_KERNEL &&
		    mp_procmem_split(&s->pm, a) >= 0 && mp_procmem_split(&s->pm, b) >= 0)
			for (unsigned r = 0; r < s->pm.n; r++)
				if (s->pm.r[r].start >= a && s->pm.r[r].end <= b &&
				    s->pm.r[r].kind != MP_PM_KIND_SPECIAL)
					s->pm.r[r].kind = (int)k;
		free(start);
		free(end);
		free(kind);
	}
}

/* Is the agent's library mapped into the process? */
static bool agent_loaded(const struct mp_procmem *pm)
{
	for (unsigned i = 0; i < pm->n; i++) {
		const char *p = pm->r[i].path, *base = p ? strrchr(p, '/') : NULL;

		if (base && !strncmp(base + 1, "libmplace-preload.so", 20))
			return true;
	}
	return false;
}

static void agent_load(struct pview *s, int pid, int timeout_ms)
{
	struct json_object *reply, *kinds, *v;
	struct mp_wire_peer peer = {0};
	char *line = NULL;
	int r = mp_wire_ask(pid, "show", 4, timeout_ms, &line, &peer);

	if (r < 0) {
		bool loaded = agent_loaded(&s->pm);

		switch (r) {
		case -ECONNREFUSED:
			s->state = loaded ? AGENT_SILENT : AGENT_NONE;
			return;
		case -ENOTUNIQ:
			s->state = AGENT_IMPOSTOR;
			if (peer.pid > 0 && asprintf(&s->state_detail, "process %d (uid %u)", peer.pid, peer.uid) < 0)
				s->state_detail = NULL;
			tool_warning("%s holds the control socket name of process %d's agent: not the agent; its "
				     "answer is ignored",
				     s->state_detail ? s->state_detail : "another process", pid);
			return;
		case -ETIMEDOUT:
			s->state = AGENT_NO_ANSWER;
			return;
		default:
			s->state = loaded ? AGENT_UNREACHABLE : AGENT_NONE;
			s->state_detail = strdup(strerror(-r));
			return;
		}
	}
	reply = json_tokener_parse(line);
	free(line);
	if (!reply || !json_object_is_type(reply, json_type_object)) {
		tool_warning("the agent of pid %d answered something that is not JSON; ignoring it", pid);
		json_object_put(reply);
		s->state = AGENT_UNREACHABLE;
		s->state_detail = strdup("its answer is not JSON");
		return;
	}
	if (json_object_object_get_ex(reply, "ok", &v) && !json_object_get_boolean(v)) {
		s->state = AGENT_REFUSED;
		s->state_detail = pv_json_str(reply, "error");
		json_object_put(reply);
		return;
	}
	s->state = AGENT_ANSWERED;
	s->agent = true;
	s->agent_reply = reply;
	s->agent_version = pv_json_str(reply, "agent");
	agent_ranges(s, reply);
	if (!json_object_object_get_ex(reply, "kinds", &kinds))
		return;
	for (int k = 1; k < N_KINDS; k++)
		if (json_object_object_get_ex(kinds, mp_pm_kind_name(k), &v))
			req_from_json(&s->kinds[k], v);
	if (json_object_object_get_ex(kinds, "policy", &v))
		req_from_json(&s->generic, v);
}

/* The "agent:" line: what is known of the requested policies, and why. */
void pv_agent_line(const struct pview *s, char *buf, size_t size)
{
	const char *d = s->state_detail ? s->state_detail : "?";

	switch (s->state) {
	case AGENT_ANSWERED:
		snprintf(buf, size, "%s (requested policies from its control socket)",
			 s->agent_version ? s->agent_version : "yes");
		break;
	case AGENT_NONE:
		snprintf(buf, size, "none (requested policies unknown; matching is against the kernel policy)");
		break;
	case AGENT_SILENT:
		snprintf(buf, size,
			 "loaded, not listening (requested policies unknown: it listens where it applies a policy, "
			 "and in a child forked without exec only once the child makes a thread)");
		break;
	case AGENT_IMPOSTOR:
		snprintf(buf, size,
			 "loaded, could not listen: its socket name is held by %s (requested policies unknown)",
			 s->state_detail ? d : "another process");
		break;
	case AGENT_NO_ANSWER:
		snprintf(buf, size, "loaded, no answer within %d ms (requested policies unknown)", MP_WIRE_TIMEOUT_MS);
		break;
	case AGENT_REFUSED:
		snprintf(buf, size, "refused to answer: %s (requested policies unknown)", d);
		break;
	case AGENT_UNREACHABLE:
		snprintf(buf, size, "loaded, cannot be asked: %s (requested policies unknown)", d);
		break;
	}
}

const char *pv_agent_state_name(enum pv_agent_state st)
{
	static const char *const names[] = {
		[AGENT_NONE] = "none",
		[AGENT_ANSWERED] = "answered",
		[AGENT_SILENT] = "not-listening",
		[AGENT_IMPOSTOR] = "impostor",
		[AGENT_NO_ANSWER] = "no-answer",
		[AGENT_REFUSED] = "refused",
		[AGENT_UNREACHABLE] = "unreachable",
	};

	return names[st];
}

/* The request for a range: the kind's own, a file glob's, or the generic. */
static void request_of(struct pview *s, const struct mp_pm_range *r, struct pv_req *file_req, const struct pv_req **ret)
{
	struct json_object *files;

	*ret = NULL;
	if (!s->agent || r->kind == MP_PM_KIND_SPECIAL)
		return;
	if (r->kind == MP_KIND_FILE && r->path && json_object_object_get_ex(s->agent_reply, "files", &files) &&
	    json_object_is_type(files, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(files); i++) {
			struct json_object *f = json_object_array_get_idx(files, i);
			char *glob = pv_json_str(f, "glob");
			bool hit = glob && fnmatch(glob, r->path, 0) == 0;

			free(glob);
			if (hit) {
				req_free(file_req);
				req_from_json(file_req, f);
				*ret = file_req;
				return;
			}
		}
	}
	if (s->kinds[r->kind].have)
		*ret = &s->kinds[r->kind];
	else if (s->generic.have)
		*ret = &s->generic;
}

/* ---- matching ------------------------------------------------------------- */

/*
 * The nodes a range's pages may be on.  From the requested policy when its
 * compiled form is known: the placement nodes when it binds or is strict,
 * else everything its constraints allow (a preferred or interleaved page may
 * fall back).  Else from the kernel policy: only bind confines pages.
 * Returns false when nothing confines them.
 */
static bool allowed_nodes(const struct mp_pm_range *r, const struct pv_req *q, struct mp_nodemask *ret,
			  const char **ret_against)
{
	if (q && q->have_compiled) {
		const struct mp_compiled *c = &q->c;

		*ret_against = "requested";
		if ((c->mode == MP_MODE_BIND || c->strict) && !mp_mask_empty(&c->nodes)) {
			*ret = c->nodes;
			if (!mp_mask_empty(&c->allowed))
				mp_mask_and(ret, ret, &c->allowed);
			return true;
		}
		if (!mp_mask_empty(&c->allowed)) {
			*ret = c->allowed;
			return true;
		}
		return false;
	}
	*ret_against = "kernel";
	if (r->kmode == MP_MPOL_BIND && !mp_mask_empty(&r->knodes)) {
		*ret = r->knodes;
		return true;
	}
	return false;
}

static uint64_t pages_outside(const struct mp_pm_range *r, const struct mp_nodemask *allowed)
{
	uint64_t out = r->elsewhere;

	for (unsigned n = 0; n < MP_PM_NODES; n++)
		if (r->per_node[n] && !mp_mask_test(allowed, n))
			out += r->per_node[n];
	return out;
}

void pv_say_error(int pid, int r)
{
	if (r == -ESRCH) {
		tool_error("no process %d (or it exited while being read)", pid);
		return;
	}
	if (r == -ENODATA) {
		tool_error("process %d has no user memory to show (a kernel thread, or a zombie)", pid);
		return;
	}
	if (r == -EACCES || r == -EPERM) {
		char path[64];
		struct stat st;
		struct passwd *pw = NULL;

		snprintf(path, sizeof(path), "/proc/%d", pid);
		if (stat(path, &st) == 0)
			pw = getpwuid(st.st_uid);
		tool_error("cannot inspect process %d%s%s%s: %s", pid, pw ? " (user " : "", pw ? pw->pw_name : "",
			   pw ? ")" : "", strerror(-r));
		tool_hint("reading another user's memory map needs ptrace rights: run as that user or as root");
		return;
	}
	tool_error("cannot read the memory map of process %d: %s", pid, strerror(-r));
}

int pv_load(struct pview *v, int pid, int timeout_ms, enum pv_count how)
{
	int r;

	memset(v, 0, sizeof(*v));
	r = mp_procmem_load(NULL, pid, &v->pm);
	if (r < 0)
		return r;
	/* first: the agent's ranges may split mappings before they are counted */
	agent_load(v, pid, timeout_ms);
	if (how == PV_NUMA_MAPS) {
		mp_procmem_use_numa_maps(&v->pm, 0);
		return 0;
	}
	r = mp_procmem_count(&v->pm);
	if (r < 0)
		pv_free(v);
	return r;
}

void pv_free(struct pview *v)
{
	for (int k = 0; k < N_KINDS; k++)
		req_free(&v->kinds[k]);
	req_free(&v->generic);
	req_free(&v->file_req);
	free(v->agent_version);
	free(v->state_detail);
	json_object_put(v->agent_reply);
	mp_procmem_free(&v->pm);
	memset(v, 0, sizeof(*v));
}

void pv_judge(struct pview *v, unsigned i, struct pv_judged *ret)
{
	const struct mp_pm_range *r = &v->pm.r[i];

	ret->against = "kernel";
	request_of(v, r, &v->file_req, &ret->q);
	ret->confined = allowed_nodes(r, ret->q, &ret->allowed, &ret->against);
	ret->outside = ret->confined ? pages_outside(r, &ret->allowed) : 0;
	ret->matches = ret->outside == 0;
}
