/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mplace show: where a running process's memory is, range by range, against
 * what was asked for it.  For each range of /proc/PID/maps: its kind of
 * memory, the policy requested for that kind (from the process's agent when
 * one answers on its control socket, else unknown), the kernel policy in
 * force (numa_maps), the pages on each node (move_pages per page, or
 * numa_maps' counts when the kernel refuses: the output says which), and
 * whether every present page is on a node the policy allows.
 *
 * Reading only: nothing here changes the process.
 */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "basic/util.h"
#include "core/compiled.h"
#include "machine/procmem.h"
#include "core/mpol.h"
#include "tool.h"
#include "wire/wire.h"

static const char usage_text[] = "Usage: mplace show (--pid PID | --self) [OPTIONS]\n"
				 "\n"
				 "Show each memory range of a process: its kind, the policy requested for\n"
				 "it and from which scope (when the process runs under the mplace agent),\n"
				 "the kernel policy in force, the pages on each node and whether they are\n"
				 "where the policy allows; then a summary per kind and the violations.\n"
				 "\n"
				 "Options:\n"
				 "  --pid PID    the process to show\n"
				 "  --self       show this mplace process (for tests)\n"
				 "  --all        list ranges without present pages too\n"
				 "  --json       print a JSON object\n"
				 "  -h, --help   show this help\n";

enum { OPT_PID = 0x100, OPT_SELF, OPT_ALL, OPT_JSON };

static const struct option options[] = {
	{"pid", required_argument, NULL, OPT_PID}, {"self", no_argument, NULL, OPT_SELF},
	{"all", no_argument, NULL, OPT_ALL},	   {"json", no_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, 'h'},	   {},
};

#define N_KINDS (MP_PM_KIND_SPECIAL + 1)

/* What the agent said for one kind. */
struct req {
	bool have;
	char *requested, *source;
	bool have_compiled;
	struct mp_compiled c;
};

/* What became of asking the process's agent. */
enum agent_state {
	AGENT_NONE,	   /* no agent library in the process */
	AGENT_ANSWERED,	   /* it answered: requested policies known */
	AGENT_SILENT,	   /* loaded, but nothing listens on its name */
	AGENT_IMPOSTOR,	   /* another process holds its name */
	AGENT_NO_ANSWER,   /* its name is bound, but no answer came */
	AGENT_REFUSED,	   /* it answered with an error (not allowed to ask) */
	AGENT_UNREACHABLE, /* asking failed otherwise */
};

struct show {
	struct mp_procmem pm;
	bool agent; /* answered */
	enum agent_state state;
	char *state_detail; /* the refusal, the impostor, the error */
	char *agent_version;
	struct json_object *agent_reply; /* owned */
	struct req kinds[N_KINDS];
	struct req generic; /* "policy": for kinds without their own */
};

/* ---- the agent ------------------------------------------------------------ */

static char *json_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return strdup(json_object_get_string(v));
}

static void req_from_json(struct req *q, struct json_object *o)
{
	char *compiled;

	q->have = true;
	q->requested = json_str(o, "requested");
	q->source = json_str(o, "source");
	compiled = json_str(o, "compiled");
	if (compiled && mp_compiled_deserialize(compiled, &q->c) == 0)
		q->have_compiled = true;
	free(compiled);
}

static void req_free(struct req *q)
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
static void agent_ranges(struct show *s, struct json_object *reply)
{
	struct json_object *ranges;

	if (!json_object_object_get_ex(reply, "ranges", &ranges) || !json_object_is_type(ranges, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(ranges); i++) {
		struct json_object *o = json_object_array_get_idx(ranges, i);
		char *start = json_str(o, "start"), *end = json_str(o, "end"), *kind = json_str(o, "kind");
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

static void agent_load(struct show *s, int pid)
{
	struct json_object *reply, *kinds, *v;
	struct mp_wire_peer peer = {0};
	char *line = NULL;
	int r = mp_wire_ask(pid, "show", 4, MP_WIRE_TIMEOUT_MS, &line, &peer);

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
		s->state_detail = json_str(reply, "error");
		json_object_put(reply);
		return;
	}
	s->state = AGENT_ANSWERED;
	s->agent = true;
	s->agent_reply = reply;
	s->agent_version = json_str(reply, "agent");
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
static void agent_line(const struct show *s, char *buf, size_t size)
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

static const char *agent_state_name(enum agent_state st)
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
static void request_of(struct show *s, const struct mp_pm_range *r, struct req *file_req, const struct req **ret)
{
	struct json_object *files;

	*ret = NULL;
	if (!s->agent || r->kind == MP_PM_KIND_SPECIAL)
		return;
	if (r->kind == MP_KIND_FILE && r->path && json_object_object_get_ex(s->agent_reply, "files", &files) &&
	    json_object_is_type(files, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(files); i++) {
			struct json_object *f = json_object_array_get_idx(files, i);
			char *glob = json_str(f, "glob");
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
static bool allowed_nodes(const struct mp_pm_range *r, const struct req *q, struct mp_nodemask *ret,
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

/* ---- output ------------------------------------------------------------------ */

static void fmt_pages(char *buf, size_t size, const uint64_t *per_node, uint64_t elsewhere)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned n = 0; n < MP_PM_NODES; n++) {
		if (!per_node[n])
			continue;
		off += (size_t)snprintf(buf + off, off < size ? size - off : 0, "%sN%u=%" PRIu64, off ? " " : "", n,
					per_node[n]);
		if (off >= size)
			return;
	}
	if (elsewhere && off < size)
		off += (size_t)snprintf(buf + off, size - off, "%sN64+=%" PRIu64, off ? " " : "", elsewhere);
	if (!off)
		snprintf(buf, size, "-");
}

static struct json_object *json_pages(const uint64_t *per_node)
{
	struct json_object *o = json_object_new_object();
	char key[16];

	for (unsigned n = 0; n < MP_PM_NODES; n++) {
		if (!per_node[n])
			continue;
		snprintf(key, sizeof(key), "%u", n);
		json_object_object_add(o, key, json_object_new_uint64(per_node[n]));
	}
	return o;
}

static struct json_object *json_hex(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return json_object_new_string(buf);
}

struct kind_sum {
	unsigned ranges, violations;
	uint64_t present, elsewhere;
	uint64_t per_node[MP_PM_NODES];
};

static int report(struct show *s, bool all, bool json)
{
	struct mp_procmem *pm = &s->pm;
	struct kind_sum sum[N_KINDS] = {0};
	struct json_object *root = NULL, *ranges = NULL, *viol = NULL;
	struct mp_sb vtext;
	struct req file_req = {0};
	unsigned n_viol = 0;

	mp_sb_init(&vtext);
	if (json) {
		root = json_object_new_object();
		ranges = json_object_new_array();
		viol = json_object_new_array();
		json_object_object_add(root, "pid", json_object_new_int(pm->pid ? pm->pid : (int)getpid()));
		json_object_object_add(root, "comm", pm->comm ? json_object_new_string(pm->comm) : NULL);
		json_object_object_add(root, "exe", pm->exe ? json_object_new_string(pm->exe) : NULL);
		json_object_object_add(root, "agent", json_object_new_boolean(s->agent));
		json_object_object_add(root, "agent_state", json_object_new_string(agent_state_name(s->state)));
		if (s->state_detail)
			json_object_object_add(root, "agent_detail", json_object_new_string(s->state_detail));
		json_object_object_add(
			root, "method",
			json_object_new_string(pm->method == MP_PM_MOVE_PAGES ? "move_pages" : "numa_maps"));
		if (pm->method == MP_PM_NUMA_MAPS)
			json_object_object_add(root, "method_reason", json_object_new_string(strerror(-pm->refused)));
	} else {
		printf("pid %d (%s) %s\n", pm->pid ? pm->pid : (int)getpid(), pm->comm ? pm->comm : "?",
		       pm->exe ? pm->exe : "?");
		char line[512];

		agent_line(s, line, sizeof(line));
		printf("agent: %s\n", line);
		if (pm->method == MP_PM_MOVE_PAGES)
			printf("pages: each present page asked with move_pages\n");
		else
			printf("pages: from numa_maps counts; move_pages was refused: %s\n", strerror(-pm->refused));
		printf("\n%-33s %-8s %-22s %-28s %-18s %s\n", "RANGE", "KIND", "KERNEL", "REQUESTED", "PAGES", "MATCH");
	}

	for (unsigned i = 0; i < pm->n; i++) {
		const struct mp_pm_range *r = &pm->r[i];
		const struct req *q;
		struct mp_nodemask allowed;
		const char *against = "kernel";
		bool confined, matches;
		uint64_t out = 0;
		char pages[256], range[40];

		request_of(s, r, &file_req, &q);
		confined = allowed_nodes(r, q, &allowed, &against);
		if (confined)
			out = pages_outside(r, &allowed);
		matches = out == 0;

		sum[r->kind].ranges++;
		sum[r->kind].present += r->present;
		sum[r->kind].elsewhere += r->elsewhere;
		for (unsigned n = 0; n < MP_PM_NODES; n++)
			sum[r->kind].per_node[n] += r->per_node[n];
		if (!matches) {
			char nodes[128];

			sum[r->kind].violations++;
			n_viol++;
			mp_mask_format(&allowed, nodes, sizeof(nodes));
			if (json) {
				struct json_object *v = json_object_new_object();

				json_object_object_add(v, "start", json_hex(r->start));
				json_object_object_add(v, "end", json_hex(r->end));
				json_object_object_add(v, "kind", json_object_new_string(mp_pm_kind_name(r->kind)));
				json_object_object_add(v, "path", r->path ? json_object_new_string(r->path) : NULL);
				json_object_object_add(v, "pages_outside", json_object_new_uint64(out));
				json_object_object_add(v, "allowed", json_object_new_string(nodes));
				json_object_object_add(v, "against", json_object_new_string(against));
				json_object_array_add(viol, v);
			} else {
				mp_sb_printf(&vtext,
					     "  %" PRIx64 "-%" PRIx64 " %s%s%s: %" PRIu64
					     " page(s) outside nodes %s (%s policy %s)\n",
					     r->start, r->end, mp_pm_kind_name(r->kind), r->path ? " " : "",
					     r->path ? r->path : "", out, nodes, against,
					     q && q->requested ? q->requested : r->kpolicy);
			}
		}

		if (json) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "start", json_hex(r->start));
			json_object_object_add(o, "end", json_hex(r->end));
			json_object_object_add(o, "perms", json_object_new_string(r->perms));
			json_object_object_add(o, "kind", json_object_new_string(mp_pm_kind_name(r->kind)));
			json_object_object_add(o, "path", r->path ? json_object_new_string(r->path) : NULL);
			json_object_object_add(o, "kernel_policy",
					       r->in_numa_maps ? json_object_new_string(r->kpolicy) : NULL);
			json_object_object_add(o, "requested",
					       q && q->requested ? json_object_new_string(q->requested) : NULL);
			json_object_object_add(o, "source", q && q->source ? json_object_new_string(q->source) : NULL);
			json_object_object_add(o, "page_size", json_object_new_uint64(r->page_size));
			json_object_object_add(o, "pages", json_pages(r->per_node));
			if (r->elsewhere)
				json_object_object_add(o, "pages_elsewhere", json_object_new_uint64(r->elsewhere));
			json_object_object_add(o, "present", json_object_new_uint64(r->present));
			if (r->nm_counted)
				json_object_object_add(o, "method", json_object_new_string("numa_maps"));
			json_object_object_add(o, "locked", json_object_new_boolean(r->locked));
			json_object_object_add(o, "matches", json_object_new_boolean(matches));
			json_object_array_add(ranges, o);
			continue;
		}
		if (!all && !r->present && matches)
			continue;
		fmt_pages(pages, sizeof(pages), r->per_node, r->elsewhere);
		snprintf(range, sizeof(range), "%" PRIx64 "-%" PRIx64, r->start, r->end);
		{
			char reqtext[160];

			if (!q)
				snprintf(reqtext, sizeof(reqtext), "%s", s->agent ? "-" : "unknown");
			else
				snprintf(reqtext, sizeof(reqtext), "%s", q->requested ? q->requested : "?");
			printf("%-33s %-8s %-22s %-28s %-18s %s%s%s\n", range, mp_pm_kind_name(r->kind),
			       r->in_numa_maps ? r->kpolicy : "?", reqtext, pages, matches ? "yes" : "NO",
			       r->path ? "  " : "", r->path ? r->path : "");
			if (q && q->source)
				printf("%-33s   source: %s\n", "", q->source);
		}
	}
	req_free(&file_req);

	if (json) {
		struct json_object *kinds = json_object_new_object(), *problems;

		for (int k = 1; k < N_KINDS; k++) {
			struct json_object *o;

			if (!sum[k].ranges)
				continue;
			o = json_object_new_object();
			json_object_object_add(o, "ranges", json_object_new_int((int)sum[k].ranges));
			json_object_object_add(o, "present", json_object_new_uint64(sum[k].present));
			json_object_object_add(o, "pages", json_pages(sum[k].per_node));
			json_object_object_add(o, "violations", json_object_new_int((int)sum[k].violations));
			json_object_object_add(kinds, mp_pm_kind_name(k), o);
		}
		json_object_object_add(root, "ranges", ranges);
		json_object_object_add(root, "kinds", kinds);
		json_object_object_add(root, "violations", viol);
		if (s->agent && json_object_object_get_ex(s->agent_reply, "problems", &problems))
			json_object_object_add(root, "agent_problems", json_object_get(problems));
		tool_print_json(root);
		mp_sb_free(&vtext);
		return EXIT_OK;
	}

	printf("\n%-8s %7s %10s %10s  %s\n", "KIND", "RANGES", "PAGES", "VIOLATIONS", "PER NODE");
	for (int k = 1; k < N_KINDS; k++) {
		char pages[256];

		if (!sum[k].ranges)
			continue;
		fmt_pages(pages, sizeof(pages), sum[k].per_node, sum[k].elsewhere);
		printf("%-8s %7u %10" PRIu64 " %10u  %s\n", mp_pm_kind_name(k), sum[k].ranges, sum[k].present,
		       sum[k].violations, pages);
	}
	if (s->agent) {
		struct json_object *problems;

		if (json_object_object_get_ex(s->agent_reply, "problems", &problems) &&
		    json_object_is_type(problems, json_type_array) && json_object_array_length(problems)) {
			printf("\nthe agent could not:\n");
			for (size_t i = 0; i < json_object_array_length(problems); i++)
				printf("  %s\n", json_object_get_string(json_object_array_get_idx(problems, i)));
		}
	}
	if (n_viol) {
		char *t = mp_sb_steal(&vtext);

		printf("\nviolations (%u):\n%s", n_viol, t ? t : "");
		free(t);
	} else {
		printf("\nviolations: none\n");
	}
	mp_sb_free(&vtext);
	return EXIT_OK;
}

/* ---- errors ------------------------------------------------------------------- */

static void say_load_error(int pid, int r)
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

int cmd_show(int argc, char **argv)
{
	struct show s = {0};
	bool self = false, all = false, json = false;
	int pid = 0, c, r, ret = EXIT_FAIL;
	uint64_t v;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case OPT_PID:
			if (mp_parse_uint(optarg, strlen(optarg), INT_MAX, &v) < 0 || v == 0) {
				tool_error("--pid takes a process id, not '%s'", optarg);
				return EXIT_USAGE;
			}
			pid = (int)v;
			break;
		case OPT_SELF:
			self = true;
			break;
		case OPT_ALL:
			all = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case 'h':
			tool_usage(usage_text, false);
			return EXIT_OK;
		default:
			tool_usage(usage_text, true);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		tool_error("unexpected argument '%s'", argv[optind]);
		tool_hint("name the process with --pid PID");
		return EXIT_USAGE;
	}
	if (self && pid) {
		tool_error("--pid and --self name two processes; choose one");
		return EXIT_USAGE;
	}
	if (!self && !pid) {
		tool_error("which process? give --pid PID (or --self for this one)");
		return EXIT_USAGE;
	}
	if (self)
		pid = (int)getpid();

	r = mp_procmem_load(NULL, pid, &s.pm);
	if (r < 0) {
		say_load_error(pid, r);
		return EXIT_FAIL;
	}
	/* first: the agent's ranges may split mappings before they are counted */
	agent_load(&s, pid);
	r = mp_procmem_count(&s.pm);
	if (r < 0) {
		say_load_error(pid, r);
		goto out;
	}
	ret = report(&s, all, json);
out:
	for (int k = 0; k < N_KINDS; k++)
		req_free(&s.kinds[k]);
	req_free(&s.generic);
	free(s.agent_version);
	free(s.state_detail);
	json_object_put(s.agent_reply);
	mp_procmem_free(&s.pm);
	return ret;
}
