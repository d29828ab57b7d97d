/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A child's own rules (doc/agent-protocol.md, "A child's own rules"): the
 * policies `mplace run` resolved follow the process tree through the
 * environment, unless a descendant execs another program for which the
 * configuration has an [exe GLOB] scope.  That program's agent loads the
 * configuration `mplace run` used, folds the scopes for its own executable
 * and cgroup against the live machine, and takes the result for the kinds
 * those exe scopes set; every other kind stays inherited.
 *
 * Invariants:
 *   - a program no exe scope matches pays one getenv, one readlink and an
 *     fnmatch per pattern `mplace run` listed; nothing is loaded;
 *   - all or nothing: when the configuration cannot be read or any kind
 *     cannot be resolved (a strict policy unmet), the problem is recorded
 *     and every inherited policy stays in force; the program always runs;
 *   - it runs from the agent's constructor, before main and before any
 *     thread of the program exists: the only time setenv is safe in a
 *     library, so the environment the program's own children inherit is
 *     rewritten here and nowhere else.
 */
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "agent.h"
#include "basic/util.h"
#include "core/combine.h"
#include "core/compiled.h"
#include "core/config.h"
#include "machine/live.h"

/* Problems open with what happened, so a long path cut at the table's
 * line length loses the least. */
#define NOT_APPLIED "own exe rules not applied, inherited policies kept: "

/* Does one of the TAB-separated globs in list match exe?  As lib/core/combine.c
 * matches exe scopes: fnmatch without flags. */
static bool list_matches(const char *list, const char *exe)
{
	char pat[PATH_MAX];

	for (const char *p = list; *p;) {
		size_t n = strchrnul(p, '\t') - p;

		if (n && n < sizeof(pat)) {
			memcpy(pat, p, n);
			pat[n] = '\0';
			if (fnmatch(pat, exe, 0) == 0)
				return true;
		}
		p += n;
		if (*p)
			p++;
	}
	return false;
}

/* A kind resolved for the new executable: the compiled policy (no trace,
 * no warnings: what the wire carries), its text for the program's children
 * and for show, and its source. */
struct resolved {
	bool set;
	struct mp_compiled c;
	char compiled[MP_WIRE_TEXT_MAX];
	char source[MP_WIRE_TEXT_MAX];
};

struct exec_ctx {
	const char *exe;
	struct mp_config cfg;
	struct mp_live live;
	struct mp_selector sel;
};

/* Fold and resolve one kind for the new executable into *ret.  0 or
 * -errno; the problem is recorded. */
static int resolve_one(struct exec_ctx *x, enum mp_kind kind, const char *glob, const char *label, struct resolved *ret)
{
	struct mp_policy folded;
	struct mp_trace trace;
	struct mp_resolve_ctx rctx = {0};
	struct mp_compiled c;
	struct mp_diag diag = {0};
	int r, n;

	x->sel.kind = kind;
	x->sel.path = glob;
	r = mp_fold(&x->cfg, &x->sel, NULL, &folded, &trace);
	if (r < 0) {
		agent_problem(NOT_APPLIED "%s: folding the scopes: %s (exe %s)", label, agent_strerror(-r), x->exe);
		return r;
	}
	mp_live_resolve_ctx(&x->live, &rctx);
	r = mp_resolve(&folded, &trace, &rctx, &c, &diag);
	if (r < 0) {
		agent_problem(NOT_APPLIED "%s: %s (exe %s)", label, diag.msg[0] ? diag.msg : agent_strerror(-r),
			      x->exe);
		goto out;
	}
	n = mp_compiled_serialize(&c, ret->compiled, sizeof(ret->compiled));
	if (n < 0 || n >= (int)sizeof(ret->compiled)) {
		agent_problem(NOT_APPLIED "%s: the compiled policy is too long (exe %s)", label, x->exe);
		r = -E2BIG;
	} else {
		char *src = NULL;

		/* "CANONICAL (scope at origin, ...)", as `mplace run` writes the source */
		snprintf(ret->source, sizeof(ret->source), "%s",
			 mp_source_text(&c, &trace, &src) < 0 ? "(out of memory)" : src);
		free(src);
		ret->set = true;
	}
	/* the warnings and the trace go; the placement stays in c */
	mp_compiled_free(&c);
	if (ret->set)
		ret->c = c;
out:
	mp_policy_free(&folded);
	mp_trace_free(&trace);
	return r;
}

/* The exe scopes of the loaded configuration that match: which kinds they
 * set, and their file globs (in file order, at most MP_WIRE_MAX_FILES). */
static unsigned own_kinds(const struct exec_ctx *x, bool sets[MP_KIND__COUNT], const char **globs)
{
	unsigned n_globs = 0;

	for (unsigned s = 0; s < x->cfg.n_scopes; s++) {
		const struct mp_scope *sc = &x->cfg.scopes[s];

		if (sc->kind != MP_SCOPE_EXE || !sc->arg || fnmatch(sc->arg, x->exe, 0))
			continue;
		for (unsigned q = 0; q < sc->n_rules; q++) {
			const struct mp_rule *rule = &sc->rules[q];
			bool dup = false;

			if (rule->kind != MP_KIND_FILE) {
				sets[rule->kind] = true;
				continue;
			}
			if (!rule->glob)
				continue;
			for (unsigned i = 0; i < n_globs; i++)
				dup |= !strcmp(globs[i], rule->glob);
			if (!dup && n_globs < MP_WIRE_MAX_FILES)
				globs[n_globs++] = rule->glob;
		}
	}
	return n_globs;
}

static int load_config(struct exec_ctx *x, const char *files)
{
	char path[PATH_MAX];
	struct mp_config_error err = {0};

	for (const char *p = files; *p;) {
		size_t n = strchrnul(p, '\t') - p;
		int r;

		if (n && n < sizeof(path)) {
			memcpy(path, p, n);
			path[n] = '\0';
			r = mp_config_load_file(&x->cfg, path, &err, 1);
			if (r != 0) {
				if (err.line)
					agent_problem(NOT_APPLIED "configuration %s:%u:%u: %s (exe %s)",
						      err.file ? err.file : path, err.line, err.col, err.msg, x->exe);
				else
					agent_problem(NOT_APPLIED "configuration %s: %s (exe %s)", path,
						      err.msg[0] ? err.msg : agent_strerror(r < 0 ? -r : EINVAL),
						      x->exe);
				return r < 0 ? r : -EINVAL;
			}
		}
		p += n;
		if (*p)
			p++;
	}
	return 0;
}

/* Take the new results: the agent's tables and the environment its
 * children inherit.  The process is single-threaded here (the agent's
 * constructor), so setenv cannot race a getenv of another thread. */
static unsigned commit(const struct exec_ctx *x, const struct resolved *kinds, const struct resolved *files,
		       const char *const *globs, unsigned n_globs)
{
	/* static: the constructor's, once; too big for a stack */
	static struct agent_file merged[MP_WIRE_MAX_FILES];
	static char val[MP_WIRE_GLOB_MAX + MP_WIRE_TEXT_MAX];
	unsigned n = 0, old_n = agent.n_files, mask = 0;
	char name[64];

	for (size_t i = 0; i < MP_WIRE_N_KINDS; i++) {
		const struct resolved *res = &kinds[mp_wire_kinds[i].kind];
		struct agent_kind *k = &agent.kind[mp_wire_kinds[i].kind];

		if (!res->set)
			continue;
		k->c = res->c;
		agent_mark(mp_wire_kinds[i].kind);
		mask |= 1u << mp_wire_kinds[i].kind;
		snprintf(k->compiled, sizeof(k->compiled), "%s", res->compiled);
		snprintf(k->source, sizeof(k->source), "%s", res->source);
		snprintf(name, sizeof(name), "MPLACE_AGENT_%s", mp_wire_kinds[i].var);
		setenv(name, res->compiled, 1);
		snprintf(name, sizeof(name), "MPLACE_AGENT_SOURCE_%s", mp_wire_kinds[i].var);
		setenv(name, res->source, 1);
	}
	if (n_globs) {
		/* the program's own globs first (first match wins), then the
		 * inherited ones it does not name again */
		for (unsigned i = 0; i < n_globs; i++) {
			struct agent_file *f = &merged[n];

			memset(f, 0, sizeof(*f));
			if (strlen(globs[i]) >= sizeof(f->glob) || !files[i].set)
				continue;
			f->k.c = files[i].c;
			snprintf(f->glob, sizeof(f->glob), "%s", globs[i]);
			f->set = true;
			snprintf(f->k.compiled, sizeof(f->k.compiled), "%s", files[i].compiled);
			snprintf(f->k.source, sizeof(f->k.source), "%s", files[i].source);
			n++;
		}
		for (unsigned i = 0; i < old_n; i++) {
			bool named = false;

			for (unsigned j = 0; j < n_globs; j++)
				named |= !strcmp(agent.files[i].glob, globs[j]);
			if (named)
				continue;
			if (n == MP_WIRE_MAX_FILES) {
				agent_problem("exe %s: more than %d file policies; the rest are ignored", x->exe,
					      MP_WIRE_MAX_FILES);
				break;
			}
			merged[n++] = agent.files[i];
		}
		mask |= 1u << MP_KIND_FILE;
		memcpy(agent.files, merged, n * sizeof(merged[0]));
		agent.n_files = n;
		for (unsigned i = 0; i < n; i++) {
			snprintf(name, sizeof(name), "MPLACE_AGENT_FILE_%u", i);
			snprintf(val, sizeof(val), "%s\t%s", agent.files[i].glob, agent.files[i].k.compiled);
			setenv(name, val, 1);
		}
		for (unsigned i = n; i < old_n; i++) {
			snprintf(name, sizeof(name), "MPLACE_AGENT_FILE_%u", i);
			unsetenv(name);
		}
	}
	/* its children compare themselves with this program now */
	setenv("MPLACE_AGENT_EXE", x->exe, 1);
	return mask;
}

/* Is this the very program `mplace run` resolved for, run through its
 * interpreter (a script: /proc/self/exe names the interpreter, AT_EXECFN
 * the script)?  Its policies were resolved with the command line: keep. */
static bool is_resolved_script(const char *resolved)
{
	const char *fn = (const char *)getauxval(AT_EXECFN);
	char real[PATH_MAX];

	return resolved && fn && realpath(fn, real) && !strcmp(real, resolved);
}

unsigned agent_exec_rules(void)
{
	const char *scopes = getenv("MPLACE_AGENT_EXE_SCOPES"), *resolved, *files;
	/* static: the constructor's, once; too big for a stack */
	static struct resolved kinds[MP_KIND__COUNT], fres[MP_WIRE_MAX_FILES];
	const char *globs[MP_WIRE_MAX_FILES];
	bool sets[MP_KIND__COUNT] = {0}, any = false;
	unsigned n_globs;
	char exe[PATH_MAX];
	struct exec_ctx x;
	unsigned mask = 0;
	ssize_t n;

	if (!scopes || !*scopes)
		return 0;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return 0;
	exe[n] = '\0';
	resolved = getenv("MPLACE_AGENT_EXE");
	if ((resolved && !strcmp(resolved, exe)) || !list_matches(scopes, exe) || is_resolved_script(resolved))
		return 0;

	/* kinds and fres are zero: this runs once, from the constructor (a
	 * memset would touch every page of them) */
	memset(&x, 0, sizeof(x));
	x.exe = exe;
	mp_config_init(&x.cfg);
	files = getenv("MPLACE_AGENT_CONFIG");
	if (!files || !*files) {
		agent_problem(NOT_APPLIED "MPLACE_AGENT_CONFIG names no configuration (exe %s)", exe);
		goto out;
	}
	if (load_config(&x, files) < 0)
		goto out;
	n_globs = own_kinds(&x, sets, globs);
	for (unsigned k = 0; k < MP_KIND__COUNT; k++)
		any |= sets[k] && k != MP_KIND_FILE;
	if (!any && !n_globs)
		goto out; /* the configuration changed: no scope of its own now */
	if (mp_live_load(NULL, 0, NULL, &x.live) < 0) {
		agent_problem(NOT_APPLIED "cannot read the topology (exe %s)", exe);
		goto out;
	}
	x.sel.exe = exe;
	x.sel.comm = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
	x.sel.cgroup = x.live.have_cg ? x.live.cg.path : NULL;

	for (size_t i = 0; i < MP_WIRE_N_KINDS; i++) {
		enum mp_kind k = mp_wire_kinds[i].kind;

		if (sets[k] && resolve_one(&x, k, NULL, mp_kind_name(k), &kinds[k]) < 0)
			goto out;
	}
	for (unsigned i = 0; i < n_globs; i++) {
		char label[300];

		snprintf(label, sizeof(label), "file:%s", globs[i]);
		if (resolve_one(&x, MP_KIND_FILE, globs[i], label, &fres[i]) < 0)
			goto out;
	}
	mask = commit(&x, kinds, fres, globs, n_globs);
out:
	mp_live_free(&x.live);
	mp_config_free(&x.cfg);
	return mask;
}
