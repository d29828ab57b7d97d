/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The system agent (doc/daemon.md, "The system agent"): with
 * `system-agent = yes`, the preload agent goes into /etc/ld.so.preload, and
 * the whole configuration is compiled into RUN_DIR/snapshot, which every
 * agent reads at start to find the scopes that select its process, without
 * parsing configuration or resolving anything.
 *
 *   mplace-snapshot/1
 *   generation 7
 *   needs exe cgroup                  what a process must know of itself
 *   scope 1 exe /usr/bin/postgres     the selectors, one a line
 *   scope 2 cgroup /db.slice
 *   kind 0 heap COMPILED<TAB>SOURCE   [system] alone
 *   kind 1 heap COMPILED<TAB>SOURCE   [system] folded with scope 1
 *   file 1 GLOB<TAB>COMPILED
 *   end
 *
 * An agent that no scope selects uses scope 0's records (none when
 * [system] has no kinds): the common case costs a read of this file.  One
 * that a single scope selects uses that scope's.  One that several select
 * (an exe and a cgroup) asks the daemon (`resolve`), which folds them all
 * for its pid; the records of its answer are the same lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/kind.h"
#include "daemon.h"
#include "wire/wire.h"

static const char *snapshot_file(void)
{
	static char path[4200];

	snprintf(path, sizeof(path), "%s/snapshot", d.p.run_dir);
	return path;
}

/* The records of every kind cfg gives sel, as "kind ID NAME C<TAB>S" and
 * "file ID GLOB<TAB>C" lines.  Returns how many, or -1 when one could not
 * be resolved (said in err). */
int records_of(struct mp_sb *b, const struct mp_config *cfg, struct mp_selector *sel, const struct mp_resolve_ctx *rctx,
	       unsigned id, char *err, size_t errsize)
{
	char line[MP_WIRE_TEXT_MAX];
	int n = 0;

	for (unsigned i = 0; i < MP_WIRE_N_KINDS; i++) {
		const struct mp_wire_kind *k = &mp_wire_kinds[i];
		struct mp_compiled c;
		struct mp_diag diag = {0};
		char *src = NULL;
		int r;

		sel->kind = k->kind;
		sel->path = NULL;
		r = mp_resolve_kind(cfg, sel, NULL, false, rctx, &c, &src, &diag);
		if (r < 0) {
			snprintf(err, errsize, "%s: %s", mp_kind_name(k->kind), diag.msg[0] ? diag.msg : strerror(-r));
			return -1;
		}
		if (r == 0)
			continue;
		if (mp_compiled_serialize(&c, line, sizeof(line)) < (int)sizeof(line) &&
		    strlen(src) < MP_WIRE_TEXT_MAX && !strpbrk(src, "\t\n")) {
			mp_sb_printf(b, "kind %u %s %s\t%s\n", id, mp_kind_name(k->kind), line, src);
			n++;
		} else {
			snprintf(err, errsize, "%s: longer than an agent keeps", mp_kind_name(k->kind));
			mp_compiled_free(&c);
			free(src);
			return -1;
		}
		mp_compiled_free(&c);
		free(src);
	}
	for (unsigned s = 0; s < cfg->n_scopes; s++)
		for (unsigned q = 0; q < cfg->scopes[s].n_rules; q++) {
			const struct mp_rule *rule = &cfg->scopes[s].rules[q];
			struct mp_compiled c;
			struct mp_diag diag = {0};
			char *src = NULL;
			int r;

			if (rule->kind != MP_KIND_FILE || !rule->glob || strpbrk(rule->glob, "\t\n") ||
			    strlen(rule->glob) >= MP_WIRE_GLOB_MAX)
				continue;
			sel->kind = MP_KIND_FILE;
			sel->path = rule->glob;
			r = mp_resolve_kind(cfg, sel, NULL, false, rctx, &c, &src, &diag);
			if (r <= 0)
				continue;
			if (mp_compiled_serialize(&c, line, sizeof(line)) < (int)sizeof(line)) {
				mp_sb_printf(b, "file %u %s\t%s\n", id, rule->glob, line);
				n++;
			}
			mp_compiled_free(&c);
			free(src);
		}
	return n;
}

static const char *selector_name(enum mp_scope_kind k)
{
	switch (k) {
	case MP_SCOPE_EXE:
		return "exe";
	case MP_SCOPE_COMM:
		return "comm";
	case MP_SCOPE_CGROUP:
		return "cgroup";
	case MP_SCOPE_UNIT:
		return "unit";
	default:
		return NULL;
	}
}

/* Write the snapshot of the configuration in force: a temporary renamed
 * over the old one, so that an agent reads one generation whole. */
static int snapshot_write(void)
{
	struct mp_resolve_ctx rctx;
	struct mp_selector sel;
	struct mp_config one;
	struct mp_scope *pick;
	struct mp_sb b;
	char err[1024];
	bool need[4] = {0};
	unsigned n_sys = 0, id = 0;
	int r = 0;

	pick = calloc(d.cfg.n_scopes + 1, sizeof(*pick));
	if (!pick)
		return -ENOMEM;
	mp_sb_init(&b);
	mp_live_resolve_ctx(&d.live, &rctx);
	rctx.cgroup = NULL;
	for (unsigned s = 0; s < d.cfg.n_scopes; s++)
		if (d.cfg.scopes[s].kind == MP_SCOPE_SYSTEM)
			pick[n_sys++] = d.cfg.scopes[s];
	for (unsigned s = 0; s < d.cfg.n_scopes; s++) {
		enum mp_scope_kind k = d.cfg.scopes[s].kind;

		need[0] |= k == MP_SCOPE_EXE;
		need[1] |= k == MP_SCOPE_COMM;
		need[2] |= k == MP_SCOPE_CGROUP;
		need[3] |= k == MP_SCOPE_UNIT;
	}
	mp_sb_printf(&b, "mplace-snapshot/1\ngeneration %lu\nneeds%s%s%s%s\n", d.generation, need[0] ? " exe" : "",
		     need[1] ? " comm" : "", need[2] ? " cgroup" : "", need[3] ? " unit" : "");
	for (unsigned s = 0; s < d.cfg.n_scopes; s++) {
		const struct mp_scope *sc = &d.cfg.scopes[s];
		const char *name = selector_name(sc->kind);

		if (!name)
			continue;
		id++;
		if (strpbrk(sc->arg, "\n")) {
			problem_add("system agent", "[%s %s]: a newline in its argument", name, sc->arg);
			continue;
		}
		mp_sb_printf(&b, "scope %u %s %s\n", id, name, sc->arg);
	}
	/* scope 0: [system] alone; then each scope folded over [system] */
	memset(&sel, 0, sizeof(sel));
	sel.match_all = true;
	one.scopes = pick;
	one.n_scopes = n_sys;
	one.files = d.cfg.files;
	one.n_files = d.cfg.n_files;
	if (records_of(&b, &one, &sel, &rctx, 0, err, sizeof(err)) < 0)
		problem_add("system agent", "[system]: %s", err);
	id = 0;
	for (unsigned s = 0; s < d.cfg.n_scopes; s++) {
		const struct mp_scope *sc = &d.cfg.scopes[s];
		char label[4200];

		if (!selector_name(sc->kind))
			continue;
		id++;
		pick[n_sys] = *sc;
		one.n_scopes = n_sys + 1;
		if (records_of(&b, &one, &sel, &rctx, id, err, sizeof(err)) < 0) {
			snprintf(label, sizeof(label), "%s %s", selector_name(sc->kind), sc->arg);
			problem_add(label, "system agent: %s", err);
		}
	}
	mp_sb_puts(&b, "end\n");
	free(pick);
	if (!mp_sb_ok(&b)) {
		mp_sb_free(&b);
		return -ENOMEM;
	}
	if (mkdir(d.p.run_dir, 0755) < 0 && errno != EEXIST)
		r = -errno;
	if (!r)
		r = mp_write_file_atomic(snapshot_file(), "tmp", b.s, b.len, 0644, false);
	mp_sb_free(&b);
	return r;
}

/* ---- /etc/ld.so.preload --------------------------------------------------------------- */

/* The file's lines without ours; *had: ours was there. */
static char *preload_without(const char *text, const char *agent, bool *had)
{
	struct mp_sb b;
	const char *s = text;

	*had = false;
	mp_sb_init(&b);
	mp_sb_puts(&b, "");
	while (s && *s) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);

		if (n == strlen(agent) && !strncmp(s, agent, n))
			*had = true;
		else if (n)
			mp_sb_printf(&b, "%.*s\n", (int)n, s);
		s = nl ? nl + 1 : NULL;
	}
	return mp_sb_steal(&b);
}

/* Every exec of the machine reads it: never half written. */
static int write_preload(const char *path, const char *text)
{
	return mp_write_file_atomic(path, "mplace-tmp", text, strlen(text), 0644, true);
}

/* Our line in the preload file; 1 added, 0 already there, -errno. */
static int preload_add(char *err, size_t errsize)
{
	char *old = NULL, *rest, *text;
	size_t len = 0;
	bool had;
	int r;

	if (access(d.p.agent, R_OK) < 0) {
		snprintf(err, errsize, "the agent %s cannot be read: %s; not put in %s", d.p.agent, strerror(errno),
			 d.p.preload_file);
		return -errno;
	}
	r = mp_read_file(d.p.preload_file, 1 << 20, &old, &len);
	if (r < 0 && r != -ENOENT) {
		snprintf(err, errsize, "%s: %s", d.p.preload_file, strerror(-r));
		return r;
	}
	rest = preload_without(old ? old : "", d.p.agent, &had);
	free(old);
	if (!rest)
		return -ENOMEM;
	if (had) {
		free(rest);
		return 0;
	}
	/* first, so that the agent's interposers come before another preload's */
	if (asprintf(&text, "%s\n%s", d.p.agent, rest) < 0) {
		free(rest);
		return -ENOMEM;
	}
	free(rest);
	r = write_preload(d.p.preload_file, text);
	free(text);
	if (r < 0) {
		snprintf(err, errsize, "writing %s: %s", d.p.preload_file, strerror(-r));
		return r;
	}
	return 1;
}

/* Take our line out again; the file goes when nothing else is in it and it
 * was not there before us. */
void preload_remove(const struct action *a)
{
	char *old = NULL, *rest;
	size_t len;
	bool had;
	int r = mp_read_file(a->target, 1 << 20, &old, &len);

	if (r < 0) {
		if (r != -ENOENT)
			say(LOG_WARNING, "%s: %s; the agent's line may stay in it", a->target, strerror(-r));
		return;
	}
	rest = preload_without(old, a->value, &had);
	free(old);
	if (!rest || !had) {
		free(rest);
		return;
	}
	if (!*rest && a->old && !strcmp(a->old, "absent"))
		r = unlink(a->target) < 0 ? -errno : 0;
	else
		r = write_preload(a->target, rest);
	free(rest);
	if (r < 0)
		say(LOG_ERR, "%s: cannot take the agent out: %s", a->target, strerror(-r));
	else
		say(LOG_NOTICE, "%s: the agent taken out", a->target);
}

void system_agent_enforce(void)
{
	struct action *a = action_find(ACT_PRELOAD, d.p.preload_file);
	char err[1024];
	int r;

	if (d.cfg.settings.system_agent != 1) {
		if (a) {
			preload_remove(a);
			action_drop(a);
		}
		unlink(snapshot_file());
		return;
	}
	r = snapshot_write();
	if (r < 0) {
		problem_add("system agent", "cannot write %s: %s; agents see the generation before", snapshot_file(),
			    strerror(-r));
		return;
	}
	if (!a) {
		struct stat st;
		bool existed = stat(d.p.preload_file, &st) == 0;

		r = preload_add(err, sizeof(err));
		if (r < 0) {
			problem_add("system agent", "%s", err);
			return;
		}
		if (r == 0) {
			/* there before us: not ours to take out */
			say(LOG_NOTICE, "%s already names %s", d.p.preload_file, d.p.agent);
		} else if ((a = action_add(ACT_PRELOAD, d.p.preload_file))) {
			a->value = strdup(d.p.agent);
			a->old = strdup(existed ? "present" : "absent");
			say(LOG_NOTICE, "%s: the agent put in (%s)", d.p.preload_file, d.p.agent);
		}
	}
	if (a) {
		free(a->means);
		if (asprintf(&a->means, "%s names the agent %s; %s holds generation %lu", d.p.preload_file, d.p.agent,
			     snapshot_file(), d.generation) < 0)
			a->means = NULL;
	}
}
