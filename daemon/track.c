/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The processes the configuration's cgroup, unit, exe and comm scopes
 * select (a [system] scope selects all, so it alone tracks nothing), what
 * reaches each, and the figures status gives: per node and per cgroup
 * scope, memory, pages outside the scope's nodes, migrations.
 *
 * A process with an agent gets a new configuration's policies through its
 * control socket (doc/agent-protocol.md, "set"), kind by kind, except kinds
 * set by hand: one whose source says "command line" or "mplace set" stays
 * as its owner set it.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/kind.h"
#include "daemon.h"
#include "wire/wire.h"

/* How long a push waits for one agent: a stuck program must not hold the
 * daemon long. */
#define PUSH_TIMEOUT_MS 500

struct proc {
	int pid;
	char comm[32];
	char exe[PATH_MAX];
	char cgroup[1024];
	char unit[256];
	bool agent;
};

/* The last thing done to a process, by pid (a pid reused since is a new
 * process: the entry goes when the start time differs). */
struct pushed {
	int pid;
	unsigned long long start;
	unsigned long generation;
	char what[256];
};
static struct pushed *pushed;
static unsigned n_pushed;

static int read_small(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (int)n;
}

static unsigned long long start_time(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long long st = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_small(path, buf, sizeof(buf)) <= 0 || !(p = strrchr(buf, ')')))
		return 0;
	/* field 22, counted after the comm's closing parenthesis (field 2) */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu", &st) != 1)
		return 0;
	return st;
}

/* The unit a cgroup path belongs to: its deepest .service or .scope. */
static bool proc_load(int pid, struct proc *p)
{
	char path[64], buf[4096], *nl, *v2;
	ssize_t n;

	memset(p, 0, sizeof(*p));
	p->pid = pid;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return false;
	/* the unified hierarchy's line, "0::/path"; on a cgroup v1 machine there
	 * is none and the process has no cgroup scope (but exe and comm still) */
	if ((v2 = mp_cgroup_v2_path(buf))) {
		snprintf(p->cgroup, sizeof(p->cgroup), "%s", v2);
		mp_cgroup_unit(p->cgroup, p->unit, sizeof(p->unit));
	}
	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, p->exe, sizeof(p->exe) - 1);
	if (n <= 0)
		return false; /* a kernel thread, or gone */
	p->exe[n] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	if (read_small(path, p->comm, sizeof(p->comm)) > 0 && (nl = strchr(p->comm, '\n')))
		*nl = '\0';
	return true;
}

/* The agent is mapped: its name is in the maps. */
static bool has_agent(int pid)
{
	char path[64], line[4200];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, "libmplace-preload") != NULL;
	fclose(f);
	return found;
}

static void selector_of(const struct proc *p, struct mp_selector *sel)
{
	const char *slash = strrchr(p->exe, '/');

	memset(sel, 0, sizeof(*sel));
	sel->exe = p->exe;
	sel->comm = p->comm[0] ? p->comm : slash ? slash + 1 : p->exe;
	sel->cgroup = p->cgroup;
	sel->unit = p->unit[0] ? p->unit : NULL;
	sel->kind = MP_KIND_ALL;
}

/* Calls fn for every process a scope other than [system] selects. */
static void for_each_tracked(void (*fn)(const struct proc *p, void *arg), void *arg)
{
	DIR *dir = opendir("/proc");
	struct dirent *e;

	if (!dir)
		return;
	while ((e = readdir(dir))) {
		struct mp_selector sel;
		struct proc p;
		bool tracked = false;
		int pid;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		pid = atoi(e->d_name);
		if (pid == getpid() || !proc_load(pid, &p))
			continue;
		selector_of(&p, &sel);
		for (unsigned s = 0; s < d.cfg.n_scopes && !tracked; s++)
			tracked = d.cfg.scopes[s].kind != MP_SCOPE_SYSTEM && mp_scope_matches(&d.cfg.scopes[s], &sel);
		if (!tracked)
			continue;
		p.agent = has_agent(pid);
		fn(&p, arg);
	}
	closedir(dir);
}

static struct pushed *pushed_of(int pid, bool create)
{
	unsigned long long st = start_time(pid);
	struct pushed *np;

	for (unsigned i = 0; i < n_pushed; i++)
		if (pushed[i].pid == pid) {
			if (pushed[i].start == st)
				return &pushed[i];
			pushed[i] = pushed[--n_pushed]; /* the pid was reused */
			break;
		}
	if (!create)
		return NULL;
	np = realloc(pushed, (n_pushed + 1) * sizeof(*np));
	if (!np)
		return NULL;
	pushed = np;
	np += n_pushed++;
	memset(np, 0, sizeof(*np));
	np->pid = pid;
	np->start = st;
	return np;
}

/* ---- pushing a configuration to the agents ------------------------------------------ */

/* The agent's present compiled policy and source of kind, from its show answer. */
static void agent_kind(json_object *show, const char *kind, const char **compiled, const char **source)
{
	json_object *kinds, *k, *v;

	*compiled = *source = NULL;
	if (json_object_object_get_ex(show, "kinds", &kinds) && json_object_object_get_ex(kinds, kind, &k)) {
		if (json_object_object_get_ex(k, "compiled", &v))
			*compiled = json_object_get_string(v);
		if (json_object_object_get_ex(k, "source", &v))
			*source = json_object_get_string(v);
	}
}

static void push_one(const struct proc *p, void *arg)
{
	struct mp_resolve_ctx rctx = {0};
	struct mp_selector sel;
	struct pushed *pu;
	struct mp_wire_peer peer;
	json_object *show = NULL;
	char *answer = NULL, line[MP_WIRE_TEXT_MAX];
	unsigned sent = 0, kept = 0, failed = 0;
	int r;

	(void)arg;
	if (!p->agent)
		return;
	pu = pushed_of(p->pid, true);
	if (!pu || pu->generation == d.generation)
		return;
	pu->generation = d.generation;
	r = mp_wire_ask(p->pid, "show", 4, PUSH_TIMEOUT_MS, &answer, &peer);
	if (r < 0 || !(show = json_tokener_parse(answer))) {
		snprintf(pu->what, sizeof(pu->what), "generation %lu: its agent could not be asked: %s", d.generation,
			 r < 0 ? strerror(-r) : "not JSON");
		free(answer);
		return;
	}
	free(answer);
	selector_of(p, &sel);
	mp_live_resolve_ctx(&d.live, &rctx);
	rctx.cgroup = NULL;
	{
		struct mp_cgroup cg;

		/* resolved for the process's own cgroup, as its agent would */
		if (mp_cgroup_load_path(d.p.sysfs_root, p->cgroup, &cg) == 0)
			rctx.cgroup = &cg;
		for (unsigned i = 0; i < MP_WIRE_N_KINDS; i++) {
			const struct mp_wire_kind *k = &mp_wire_kinds[i];
			const char *name = mp_kind_name(k->kind), *cur, *cur_src;
			struct mp_compiled c;
			struct mp_diag diag = {0};
			char *src = NULL, *req = NULL;

			sel.kind = k->kind;
			r = mp_resolve_kind(&d.cfg, &sel, NULL, false, &rctx, &c, &src, &diag);
			if (r <= 0) {
				failed += r < 0;
				continue;
			}
			agent_kind(show, name, &cur, &cur_src);
			if (cur_src && (strstr(cur_src, "command line") || strstr(cur_src, "mplace set"))) {
				kept++; /* set by hand: its owner's */
			} else if (mp_compiled_serialize(&c, line, sizeof(line)) < (int)sizeof(line) &&
				   (!cur || strcmp(cur, line)) &&
				   asprintf(&req, "set\n%s\n%s\n%s", name, line, src) >= 0) {
				char *ans = NULL;

				r = mp_wire_ask(p->pid, req, strlen(req), PUSH_TIMEOUT_MS, &ans, &peer);
				if (r == 0 && ans && strstr(ans, "\"ok\": true"))
					sent++;
				else
					failed++;
				free(ans);
				free(req);
			}
			mp_compiled_free(&c);
			free(src);
		}
		if (rctx.cgroup)
			mp_cgroup_free(&cg);
	}
	json_object_put(show);
	snprintf(pu->what, sizeof(pu->what), "generation %lu: %u polic%s sent to its agent%s%s", d.generation, sent,
		 sent == 1 ? "y" : "ies", kept ? ", kinds set by hand kept" : "", failed ? ", some failed" : "");
	if (sent || failed)
		say(failed ? LOG_WARNING : LOG_INFO, "pid %d (%s): %s", p->pid, p->comm, pu->what);
}

void track_push(void)
{
	if (!d.suspended)
		for_each_tracked(push_one, NULL);
}

/* ---- resolve: one process's records, for its agent ------------------------------------ */

int resolve_records(int pid, struct mp_sb *b, char *err, size_t errsize)
{
	struct mp_resolve_ctx rctx;
	struct mp_selector sel;
	struct mp_cgroup cg;
	struct proc p;
	bool have_cg;
	int n;

	if (!proc_load(pid, &p)) {
		snprintf(err, errsize, "process %d cannot be read", pid);
		return -1;
	}
	selector_of(&p, &sel);
	mp_live_resolve_ctx(&d.live, &rctx);
	/* against the process's own cgroup, as its agent would resolve */
	have_cg = mp_cgroup_load_path(d.p.sysfs_root, p.cgroup, &cg) == 0;
	rctx.cgroup = have_cg ? &cg : NULL;
	n = records_of(b, &d.cfg, &sel, &rctx, 0, err, errsize);
	if (have_cg)
		mp_cgroup_free(&cg);
	return n;
}

/* ---- status figures -------------------------------------------------------------------- */

static void add_process(const struct proc *p, void *arg)
{
	json_object *arr = arg, *o = json_object_new_object(), *scopes = json_object_new_array();
	struct mp_selector sel;
	struct pushed *pu = pushed_of(p->pid, false);
	char label[4200];
	bool cg_limit = false, unit_scope = false;

	selector_of(p, &sel);
	json_object_object_add(o, "pid", json_object_new_int(p->pid));
	json_object_object_add(o, "comm", json_object_new_string(p->comm));
	json_object_object_add(o, "exe", json_object_new_string(p->exe));
	json_object_object_add(o, "cgroup", json_object_new_string(p->cgroup));
	if (p->unit[0])
		json_object_object_add(o, "unit", json_object_new_string(p->unit));
	for (unsigned s = 0; s < d.cfg.n_scopes; s++) {
		const struct mp_scope *sc = &d.cfg.scopes[s];

		if (sc->kind == MP_SCOPE_SYSTEM || !mp_scope_matches(sc, &sel))
			continue;
		snprintf(label, sizeof(label), "%s %s", mp_scope_kind_name(sc->kind), sc->arg);
		json_object_array_add(scopes, json_object_new_string(label));
		cg_limit |= sc->kind == MP_SCOPE_CGROUP;
		unit_scope |= sc->kind == MP_SCOPE_UNIT;
	}
	json_object_object_add(o, "scopes", scopes);
	json_object_object_add(o, "agent", json_object_new_boolean(p->agent));
	{
		struct mp_sb m;

		mp_sb_init(&m);
		if (cg_limit)
			mp_sb_puts(&m, "its cgroup's cpuset.mems");
		if (p->agent)
			mp_sb_printf(&m, "%sits agent", m.len ? ", " : "");
		else if (unit_scope)
			mp_sb_printf(&m, "%sits unit's drop-in, at its next start", m.len ? ", " : "");
		if (!m.len)
			mp_sb_puts(&m, "none: no agent in it");
		json_object_object_add(o, "means", json_object_new_string(m.s ? m.s : ""));
		mp_sb_free(&m);
	}
	if (pu && pu->what[0])
		json_object_object_add(o, "last_action", json_object_new_string(pu->what));
	json_object_array_add(arr, o);
}

/* memory.numa_stat's anon and file lines, by node, in bytes; anon alone in
 * anon_by_node. */
static int numa_stat(const char *cg, uint64_t *by_node, uint64_t *anon_by_node, unsigned max)
{
	char path[4200], line[8192];
	FILE *f;

	snprintf(path, sizeof(path), "%s%s/memory.numa_stat", d.p.cgroup_root, cg);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	memset(by_node, 0, max * sizeof(*by_node));
	memset(anon_by_node, 0, max * sizeof(*anon_by_node));
	while (fgets(line, sizeof(line), f)) {
		char *tok, *save = NULL;
		bool anon = !strncmp(line, "anon ", 5);

		if (!anon && strncmp(line, "file ", 5))
			continue;
		for (tok = strtok_r(line + 5, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
			unsigned node;
			unsigned long long v;

			if (sscanf(tok, "N%u=%llu", &node, &v) == 2 && node < max) {
				by_node[node] += v;
				if (anon)
					anon_by_node[node] += v;
			}
		}
	}
	fclose(f);
	return 0;
}

static uint64_t stat_value(const char *path, const char *key)
{
	char line[512];
	size_t n = strlen(key);
	uint64_t v = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ' ') {
			v = strtoull(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static void add_cgroups(json_object *a)
{
	json_object *arr = json_object_new_array();
	long psz = sysconf(_SC_PAGESIZE);

	for (unsigned i = 0; i < d.n_actions; i++) {
		const struct action *ac = &d.actions[i];
		struct mp_nodemask allowed;
		uint64_t by_node[MP_MAX_NODES / 8], anon_by_node[MP_MAX_NODES / 8];
		json_object *o, *nodes;
		char path[4200], cg[1024];
		uint64_t outside = 0, anon_outside = 0;

		if (ac->kind != ACT_CPUSET && ac->kind != ACT_PROPERTY)
			continue;
		if (!ac->path)
			continue;
		snprintf(cg, sizeof(cg), "%s", ac->path);
		if (!ac->value || mp_mask_parse(ac->value, strlen(ac->value), &allowed, NULL) < 0 ||
		    numa_stat(cg, by_node, anon_by_node, MP_ARRAY_SIZE(by_node)) < 0)
			continue;
		o = json_object_new_object();
		nodes = json_object_new_object();
		json_object_object_add(o, "cgroup", json_object_new_string(cg));
		json_object_object_add(o, "allowed", json_object_new_string(ac->value));
		for (unsigned n = 0; n < MP_ARRAY_SIZE(by_node); n++) {
			char key[16];

			if (!by_node[n])
				continue;
			snprintf(key, sizeof(key), "%u", n);
			json_object_object_add(nodes, key, json_object_new_uint64(by_node[n]));
			if (!mp_mask_test(&allowed, n)) {
				outside += by_node[n];
				anon_outside += anon_by_node[n];
			}
		}
		json_object_object_add(o, "bytes_by_node", nodes);
		json_object_object_add(o, "pages_outside", json_object_new_uint64(outside / (uint64_t)psz));
		/* the kernel moves a cgroup's mapped pages when its nodes change,
		 * not the page cache it was charged for and no longer maps */
		json_object_object_add(o, "anon_pages_outside", json_object_new_uint64(anon_outside / (uint64_t)psz));
		snprintf(path, sizeof(path), "%s%s/memory.stat", d.p.cgroup_root, cg);
		json_object_object_add(o, "pages_migrated",
				       json_object_new_uint64(stat_value(path, "numa_pages_migrated") +
							      stat_value(path, "pgdemote_kswapd") +
							      stat_value(path, "pgdemote_direct") +
							      stat_value(path, "pgpromote_success")));
		json_object_array_add(arr, o);
	}
	json_object_object_add(a, "cgroups", arr);
}

static void add_nodes(json_object *a)
{
	json_object *arr = json_object_new_array();

	for (unsigned i = 0; d.live.topo && i < d.live.topo->n_nodes; i++) {
		const struct mp_node *n = &d.live.topo->nodes[i];
		json_object *o;
		uint64_t free_b = 0;

		if (!n->has_memory)
			continue;
		o = json_object_new_object();
		mp_probe_node_free(d.p.sysfs_root, n->id, &free_b);
		json_object_object_add(o, "node", json_object_new_int(n->id));
		json_object_object_add(o, "mem_total", json_object_new_uint64(n->mem_total));
		json_object_object_add(o, "mem_free", json_object_new_uint64(free_b));
		json_object_array_add(arr, o);
	}
	json_object_object_add(a, "nodes", arr);
	{
		char path[256];

		snprintf(path, sizeof(path), "/proc/vmstat");
		json_object_object_add(a, "pages_migrated",
				       json_object_new_uint64(stat_value(path, "pgmigrate_success")));
	}
}

void status_figures(json_object *a)
{
	json_object *arr = json_object_new_array();

	for_each_tracked(add_process, arr);
	json_object_object_add(a, "processes", arr);
	add_nodes(a);
	add_cgroups(a);
}
